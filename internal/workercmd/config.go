package workercmd

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redelay/redelay/taskqueue"
	"github.com/redelay/redelay/worker"
)

// Defaults of Config that are the command's own; the others are taskqueue's and worker's.
const (
	DefaultQueues    = "default=1"
	DefaultHTTPAddr  = ":8081"
	DefaultDevAddr   = "127.0.0.1:6379"
	DefaultLogFormat = "text"
)

// Config is the command's configuration, read from its flags and, for each flag not on the
// command line, from its environment variable (named in brackets below).
type Config struct {
	// RedisURL is where the tasks are [REDIS_URL]. Default taskqueue.DefaultRedisURL. In
	// dev mode it is the embedded Redis's URL.
	RedisURL string
	// Prefix starts every Redis key [REDELAY_PREFIX]. Default taskqueue.DefaultKeyPrefix.
	// Apps that enqueue must use the same prefix (taskqueue.Config.KeyPrefix).
	Prefix string
	// Target is the base URL deliveries are pushed to [REDELAY_TARGET]. "" runs
	// delay.Handler() in-process instead.
	Target string
	// Secret signs push deliveries [REDELAY_SECRET]; required with Target except in dev mode,
	// which generates one.
	Secret []byte
	// Queues maps each queue served to its weight [REDELAY_QUEUES], written
	// "default=1,mail=3" (a name alone has weight 1). Default DefaultQueues.
	Queues map[string]int
	// Concurrency is how many tasks run at once [REDELAY_CONCURRENCY]. Default
	// worker.DefaultConcurrency.
	Concurrency int
	// Lease is how long a task is leased before another worker may run it
	// [REDELAY_LEASE]. Default worker.DefaultLeaseDuration.
	Lease time.Duration
	// DeliveryTimeout is the deadline of one delivery [REDELAY_DELIVERY_TIMEOUT]. Default
	// worker.DefaultDeliveryTimeout.
	DeliveryTimeout time.Duration
	// ShutdownTimeout is how long running tasks may finish after SIGTERM or SIGINT
	// [REDELAY_SHUTDOWN_TIMEOUT]. Default worker.DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// HTTPAddr is where GET /healthz and GET /stats are served [REDELAY_HTTP]. "" (or
	// "off") serves nothing. Default DefaultHTTPAddr.
	HTTPAddr string
	// LogFormat is "text" or "json" [REDELAY_LOG_FORMAT]. Default DefaultLogFormat.
	LogFormat string
	// LogLevel is the least level logged [REDELAY_LOG_LEVEL]. Default slog.LevelInfo.
	LogLevel slog.Level
	// Dev runs an embedded, in-memory Redis at DevAddr [REDELAY_DEV]: nothing is kept
	// across restarts.
	Dev bool
	// DevAddr is where dev mode's Redis listens [REDELAY_DEV_ADDR]. Default DefaultDevAddr.
	DevAddr string

	redisOnCommandLine bool
}

// flagEnv names the environment variable of each of the command's flags.
var flagEnv = map[string]string{
	"redis":            "REDIS_URL",
	"prefix":           "REDELAY_PREFIX",
	"target":           "REDELAY_TARGET",
	"secret":           "REDELAY_SECRET",
	"queues":           "REDELAY_QUEUES",
	"concurrency":      "REDELAY_CONCURRENCY",
	"lease":            "REDELAY_LEASE",
	"delivery-timeout": "REDELAY_DELIVERY_TIMEOUT",
	"shutdown-timeout": "REDELAY_SHUTDOWN_TIMEOUT",
	"http":             "REDELAY_HTTP",
	"log-format":       "REDELAY_LOG_FORMAT",
	"log-level":        "REDELAY_LOG_LEVEL",
	"dev":              "REDELAY_DEV",
	"dev-addr":         "REDELAY_DEV_ADDR",
}

// flagSet defines the command's flags on a new FlagSet writing into cfg, and returns it with
// the environment variable of each flag, the extensions' included.
func (c Command) flagSet(cfg *Config) (*flag.FlagSet, map[string]string, error) {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported in one line by Run
	fs.StringVar(&cfg.RedisURL, "redis", taskqueue.DefaultRedisURL, "Redis `URL` holding the tasks (redis://, rediss:// or unix://)")
	fs.StringVar(&cfg.Prefix, "prefix", taskqueue.DefaultKeyPrefix, "`prefix` of every Redis key; apps that enqueue must use the same one")
	fs.StringVar(&cfg.Target, "target", "", "base `URL` to push each delivery to, signed with -secret (push mode); empty runs delay.Handler() in-process")
	fs.Func("secret", "HMAC `key` that signs push deliveries; prefer the environment variable to the flag, which other users may see", func(s string) error {
		cfg.Secret = []byte(s)
		return nil
	})
	cfg.Queues = map[string]int{"default": 1}
	fs.Var((*queuesValue)(&cfg.Queues), "queues", "queues to serve with their `weights`, as default=1,mail=3")
	fs.IntVar(&cfg.Concurrency, "concurrency", worker.DefaultConcurrency, "how many tasks run at once")
	fs.DurationVar(&cfg.Lease, "lease", worker.DefaultLeaseDuration, "lease of a task: another worker runs it again this long after this one died")
	fs.DurationVar(&cfg.DeliveryTimeout, "delivery-timeout", worker.DefaultDeliveryTimeout, "deadline of one delivery")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", worker.DefaultShutdownTimeout, "how long running tasks may finish after SIGTERM or SIGINT; the rest go back to their queue")
	fs.StringVar(&cfg.HTTPAddr, "http", DefaultHTTPAddr, "`address` serving GET /healthz and GET /stats; empty or \"off\" serves nothing")
	fs.StringVar(&cfg.LogFormat, "log-format", DefaultLogFormat, "log `format`: text or json")
	fs.TextVar(&cfg.LogLevel, "log-level", slog.LevelInfo, "least `level` logged: debug, info, warn or error")
	fs.BoolVar(&cfg.Dev, "dev", false, "dev mode: run an embedded in-memory Redis at -dev-addr that keeps nothing across restarts")
	fs.StringVar(&cfg.DevAddr, "dev-addr", DefaultDevAddr, "`address` of dev mode's embedded Redis")

	env := maps.Clone(flagEnv)
	for i, ext := range c.Extensions {
		if ext.Flags == nil {
			continue
		}
		for name, v := range ext.Flags(fs) {
			if fs.Lookup(name) == nil {
				return nil, nil, fmt.Errorf("workercmd: extension %d names the environment variable of flag -%s, which it did not define", i, name)
			}
			env[name] = v
		}
	}
	return fs, env, nil
}

// ParseConfig reads the configuration from args (without the program name) and, for each
// flag not in args, from the environment through getenv (nil means an empty environment);
// empty variables count as unset. The extensions' flags are parsed too. It returns
// flag.ErrHelp for -h or -help, and otherwise an error that names the bad flag or variable.
func (c Command) ParseConfig(args []string, getenv func(string) string) (Config, error) {
	var cfg Config
	fs, env, err := c.flagSet(&cfg)
	if err != nil {
		return cfg, err
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q: the worker takes flags only", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	cfg.redisOnCommandLine = set["redis"]
	if getenv != nil {
		names := make([]string, 0, len(env))
		for name := range env {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			v := getenv(env[name])
			if set[name] || v == "" {
				continue
			}
			if err := fs.Set(name, v); err != nil {
				return cfg, fmt.Errorf("%s=%q: %w", env[name], redactEnv(name, v), err)
			}
		}
	}
	return cfg, cfg.validate()
}

func redactEnv(name, v string) string {
	if name == "secret" {
		return "…"
	}
	return v
}

// validate checks what the worker's own validation would word in its field names, so that
// errors name the flags.
func (c *Config) validate() error {
	if c.Dev && c.redisOnCommandLine {
		return errors.New("-redis and -dev exclude each other: dev mode runs its own Redis at -dev-addr")
	}
	if !c.Dev {
		if _, err := redis.ParseURL(c.RedisURL); err != nil {
			return fmt.Errorf("-redis %q: %w", redactURL(c.RedisURL), err)
		}
	}
	if c.Prefix == "" {
		return errors.New("-prefix: empty")
	}
	if c.Target != "" {
		u, err := url.Parse(c.Target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("-target %q: not an http(s) base URL such as http://app:8080", c.Target)
		}
		if len(c.Secret) == 0 && !c.Dev {
			return errors.New("-target needs -secret (or REDELAY_SECRET): push deliveries are signed, and the app checks them with taskqueue.RequireSignature")
		}
	}
	switch {
	case c.Concurrency < 1:
		return fmt.Errorf("-concurrency %d: want at least 1", c.Concurrency)
	case c.Lease < time.Second:
		return fmt.Errorf("-lease %s: want at least 1s", c.Lease)
	case c.DeliveryTimeout <= 0:
		return fmt.Errorf("-delivery-timeout %s: want more than 0", c.DeliveryTimeout)
	case c.ShutdownTimeout < 0:
		return fmt.Errorf("-shutdown-timeout %s: want 0 or more", c.ShutdownTimeout)
	case c.LogFormat != "text" && c.LogFormat != "json":
		return fmt.Errorf("-log-format %q: want text or json", c.LogFormat)
	case c.Dev && c.DevAddr == "":
		return errors.New("-dev-addr: empty")
	}
	if c.HTTPAddr == "off" {
		c.HTTPAddr = ""
	}
	return nil
}

// queuesValue is the flag.Value of -queues.
type queuesValue map[string]int

func (q *queuesValue) String() string {
	if q == nil || *q == nil {
		return ""
	}
	return formatQueues(*q)
}

func (q *queuesValue) Set(s string) error {
	m, err := parseQueues(s)
	if err != nil {
		return err
	}
	*q = m
	return nil
}

// parseQueues reads "default=1,mail=3"; a name alone has weight 1.
func parseQueues(s string) (map[string]int, error) {
	m := map[string]int{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, weight, hasWeight := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		w := 1
		if hasWeight {
			n, err := strconv.Atoi(strings.TrimSpace(weight))
			if err != nil || n < 1 {
				return nil, fmt.Errorf("queue %q: weight %q is not a whole number of at least 1", name, weight)
			}
			w = n
		}
		if name == "" {
			return nil, fmt.Errorf("%q: a queue name is missing", part)
		}
		if err := taskqueue.ValidateQueueName(name); err != nil {
			return nil, fmt.Errorf("queue %q: %w", name, err)
		}
		if _, dup := m[name]; dup {
			return nil, fmt.Errorf("queue %q is listed twice", name)
		}
		m[name] = w
	}
	if len(m) == 0 {
		return nil, errors.New("no queue to serve")
	}
	return m, nil
}

func formatQueues(m map[string]int) string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + "=" + strconv.Itoa(m[n])
	}
	return strings.Join(parts, ",")
}

// redactURL hides the password of a Redis URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// usage writes the command's help to w.
func (c Command) usage(w io.Writer) {
	var cfg Config
	fs, env, err := c.flagSet(&cfg)
	if err != nil {
		fmt.Fprintf(w, "worker: %v\n", err)
		return
	}
	fmt.Fprint(w, `Usage: worker [flags]

Runs redelay's tasks from Redis. Push mode (-target), the usual way to run this binary,
sends each task as an HTTP request signed with -secret to the app, which checks it with
taskqueue.RequireSignature and runs it (delay.Handler() for delay's functions). Without
-target the tasks run in-process through delay.Handler(), which only knows the functions
of a Go program that links them: build your own worker with workercmd for that.

SIGTERM or SIGINT stops leasing, lets running tasks finish for up to -shutdown-timeout,
puts the others back in their queues at once and exits 0; a second signal ends it at once.
Exit status 2 means bad flags, 1 that Redis or the target did not answer at start.

Each flag is also read from the environment variable in brackets; the flag wins.

`)
	fs.VisitAll(func(f *flag.Flag) {
		typ, text := flag.UnquoteUsage(f)
		line := "  -" + f.Name
		if typ != "" {
			line += " " + typ
		}
		if v := env[f.Name]; v != "" {
			line += "  [" + v + "]"
		}
		fmt.Fprintln(w, line)
		if def := f.DefValue; def != "" && def != "false" && def != "0" {
			text += " (default " + def + ")"
		}
		fmt.Fprintf(w, "    \t%s\n", text)
	})
}
