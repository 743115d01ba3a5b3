package workercmd

import (
	"errors"
	"flag"
	"log/slog"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/redelay/redelay/taskqueue"
	"github.com/redelay/redelay/worker"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := Command{}.ParseConfig(nil, nil)
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	want := Config{
		RedisURL:        taskqueue.DefaultRedisURL,
		Prefix:          taskqueue.DefaultKeyPrefix,
		Queues:          map[string]int{"default": 1},
		Concurrency:     worker.DefaultConcurrency,
		Lease:           worker.DefaultLeaseDuration,
		DeliveryTimeout: worker.DefaultDeliveryTimeout,
		ShutdownTimeout: worker.DefaultShutdownTimeout,
		HTTPAddr:        DefaultHTTPAddr,
		LogFormat:       "text",
		LogLevel:        slog.LevelInfo,
		DevAddr:         DefaultDevAddr,
	}
	if !sameConfig(cfg, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", cfg, want)
	}
}

func sameConfig(a, b Config) bool {
	if !maps.Equal(a.Queues, b.Queues) || string(a.Secret) != string(b.Secret) {
		return false
	}
	a.Queues, b.Queues, a.Secret, b.Secret = nil, nil, nil, nil
	a.redisOnCommandLine, b.redisOnCommandLine = false, false
	return a.RedisURL == b.RedisURL && a.Prefix == b.Prefix && a.Target == b.Target &&
		a.Concurrency == b.Concurrency && a.Lease == b.Lease && a.DeliveryTimeout == b.DeliveryTimeout &&
		a.ShutdownTimeout == b.ShutdownTimeout && a.HTTPAddr == b.HTTPAddr && a.LogFormat == b.LogFormat &&
		a.LogLevel == b.LogLevel && a.Dev == b.Dev && a.DevAddr == b.DevAddr
}

func TestParseConfigReadsEnvironmentAndFlagsWin(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"REDIS_URL":                "redis://redis:6379/2",
		"REDELAY_PREFIX":           "app1",
		"REDELAY_TARGET":           "http://app:8080",
		"REDELAY_SECRET":           "s3cret",
		"REDELAY_QUEUES":           "default=1, mail=3",
		"REDELAY_CONCURRENCY":      "7",
		"REDELAY_LEASE":            "2s",
		"REDELAY_DELIVERY_TIMEOUT": "1m",
		"REDELAY_SHUTDOWN_TIMEOUT": "5s",
		"REDELAY_HTTP":             "off",
		"REDELAY_LOG_FORMAT":       "json",
		"REDELAY_LOG_LEVEL":        "debug",
	}
	cfg, err := Command{}.ParseConfig(nil, envOf(env))
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	want := Config{
		RedisURL: "redis://redis:6379/2", Prefix: "app1", Target: "http://app:8080", Secret: []byte("s3cret"),
		Queues: map[string]int{"default": 1, "mail": 3}, Concurrency: 7, Lease: 2 * time.Second,
		DeliveryTimeout: time.Minute, ShutdownTimeout: 5 * time.Second, HTTPAddr: "", LogFormat: "json",
		LogLevel: slog.LevelDebug, DevAddr: DefaultDevAddr,
	}
	if !sameConfig(cfg, want) {
		t.Errorf("from the environment:\n got %+v\nwant %+v", cfg, want)
	}

	cfg, err = Command{}.ParseConfig([]string{"-concurrency", "3", "-queues", "mail", "-secret", "other", "-http", "127.0.0.1:9"}, envOf(env))
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	if cfg.Concurrency != 3 || !maps.Equal(cfg.Queues, map[string]int{"mail": 1}) || string(cfg.Secret) != "other" || cfg.HTTPAddr != "127.0.0.1:9" {
		t.Errorf("flags did not win over the environment: %+v", cfg)
	}
	if cfg.Prefix != "app1" {
		t.Errorf("Prefix = %q, want the environment's app1 when the flag is absent", cfg.Prefix)
	}
}

func TestParseConfigErrorsNameTheFlag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{args: []string{"-concurrency", "x"}, want: "-concurrency"},
		{args: []string{"-nope"}, want: "-nope"},
		{args: []string{"extra"}, want: `unexpected argument "extra"`},
		{env: map[string]string{"REDELAY_CONCURRENCY": "many"}, want: "REDELAY_CONCURRENCY"},
		{env: map[string]string{"REDELAY_SECRET": "x", "REDELAY_LEASE": "soon"}, want: "REDELAY_LEASE"},
		{args: []string{"-concurrency", "0"}, want: "-concurrency 0"},
		{args: []string{"-lease", "10ms"}, want: "-lease"},
		{args: []string{"-shutdown-timeout", "-1s"}, want: "-shutdown-timeout"},
		{args: []string{"-delivery-timeout", "0s"}, want: "-delivery-timeout"},
		{args: []string{"-log-format", "xml"}, want: "-log-format"},
		{args: []string{"-log-level", "loud"}, want: "-log-level"},
		{args: []string{"-queues", "default=0"}, want: "-queues"},
		{args: []string{"-queues", "a=1,a=2"}, want: "listed twice"},
		{args: []string{"-queues", "bad name"}, want: "bad name"},
		{args: []string{"-queues", ","}, want: "no queue"},
		{args: []string{"-redis", "mysql://x"}, want: "-redis"},
		{args: []string{"-target", "ftp://app"}, want: "-target"},
		{args: []string{"-target", "http://app:8080"}, want: "-target needs -secret"},
		{args: []string{"-dev", "-redis", "redis://127.0.0.1:6379"}, want: "-redis and -dev"},
		{args: []string{"-prefix", ""}, want: "-prefix"},
	}
	for _, tt := range tests {
		_, err := Command{}.ParseConfig(tt.args, envOf(tt.env))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseConfig(%q, %v) = %v, want an error containing %q", tt.args, tt.env, err, tt.want)
		}
	}
}

func TestParseConfigSecretNotInErrors(t *testing.T) {
	t.Parallel()
	_, err := Command{}.ParseConfig([]string{"-concurrency", "x"}, envOf(map[string]string{"REDELAY_SECRET": "hunter2"}))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %v: want one, without the secret", err)
	}
}

func TestParseConfigDevModeNeedsNoSecret(t *testing.T) {
	t.Parallel()
	// REDIS_URL in the environment (an app's setting) does not conflict with -dev.
	cfg, err := Command{}.ParseConfig([]string{"-dev", "-target", "http://127.0.0.1:8080"}, envOf(map[string]string{"REDIS_URL": "redis://elsewhere:6379"}))
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	if !cfg.Dev || cfg.Target == "" {
		t.Errorf("cfg = %+v", cfg)
	}
}

func TestParseConfigHelp(t *testing.T) {
	t.Parallel()
	if _, err := (Command{}).ParseConfig([]string{"-h"}, nil); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("ParseConfig(-h) = %v, want flag.ErrHelp", err)
	}
}

func TestExtensionFlagsReadTheirEnvironment(t *testing.T) {
	t.Parallel()
	var key string
	cmd := Command{Extensions: []Extension{{
		Flags: func(fs *flag.FlagSet) map[string]string {
			fs.StringVar(&key, "api-key", "", "API key")
			return map[string]string{"api-key": "REDELAY_API_KEY"}
		},
	}}}
	if _, err := cmd.ParseConfig(nil, envOf(map[string]string{"REDELAY_API_KEY": "k1"})); err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	if key != "k1" {
		t.Errorf("api-key = %q, want k1 from REDELAY_API_KEY", key)
	}
	var help strings.Builder
	cmd.usage(&help)
	if !strings.Contains(help.String(), "-api-key string  [REDELAY_API_KEY]") {
		t.Errorf("help does not list the extension's flag:\n%s", help.String())
	}

	bad := Command{Extensions: []Extension{{Flags: func(*flag.FlagSet) map[string]string {
		return map[string]string{"undefined": "X"}
	}}}}
	if _, err := bad.ParseConfig(nil, nil); err == nil {
		t.Error("ParseConfig accepted an environment variable for an undefined flag")
	}
}

func TestParseQueues(t *testing.T) {
	t.Parallel()
	got, err := parseQueues(" default=1 ,mail = 3,reports")
	if err != nil {
		t.Fatalf("parseQueues: %v", err)
	}
	want := map[string]int{"default": 1, "mail": 3, "reports": 1}
	if !maps.Equal(got, want) {
		t.Errorf("parseQueues = %v, want %v", got, want)
	}
	if s := formatQueues(got); s != "default=1,mail=3,reports=1" {
		t.Errorf("formatQueues = %q", s)
	}
}
