package workercmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/redelay/redelay/taskqueue"
	"github.com/redelay/redelay/worker"
)

// Exit codes of Run.
const (
	ExitOK    = 0 // stopped by its context after draining
	ExitError = 1 // could not start: Redis, the target or a listener unreachable
	ExitUsage = 2 // bad flags or environment
)

// How long the start-up checks wait for Redis and for the target.
const (
	redisCheckTimeout  = 3 * time.Second
	targetCheckTimeout = 3 * time.Second
	httpStopTimeout    = 5 * time.Second
)

// Command is the worker command. Its zero value is the worker without the HTTP API (Run adds
// APIExtension); Extensions add flags and HTTP handlers to it, for a binary that mounts more.
type Command struct {
	// Extensions add to the command, in order.
	Extensions []Extension
}

// Extension adds flags and HTTP handlers to a Command.
type Extension struct {
	// Flags, if set, defines the extension's flags on fs before the command line is parsed
	// (the values are read in Mount, through variables the closures share). It returns the
	// environment variable of each of its flags that has one (flag name -> variable), read
	// when the flag is not on the command line.
	Flags func(fs *flag.FlagSet) map[string]string
	// Mount, if set, adds handlers to the mux of the -http listener, which already serves
	// GET /healthz and GET /stats, once the client exists and before the listener starts.
	// It is not called when -http is off. An error stops the command with ExitError.
	Mount func(mux *http.ServeMux, rt Runtime) error
}

// Runtime is what the command built from its Config, for extensions.
type Runtime struct {
	Config Config
	Client *taskqueue.Client
	Logger *slog.Logger
}

// Run runs the worker command with the HTTP API (APIExtension); see Command.Run.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return Command{Extensions: []Extension{APIExtension(stdout)}}.Run(ctx, args, getenv, stdout, stderr)
}

// Run runs the worker command with args (without the program name) and the environment
// read through getenv until ctx ends (main cancels it on SIGTERM or SIGINT), then drains the
// worker and returns ExitOK. Logs go to stderr; dev mode's notice and -h's help go to
// stdout. A configuration error returns ExitUsage, and a failed start-up check (Redis does
// not answer PING, the target does not accept a TCP connection (except in dev mode, where
// the app often starts later), a listener cannot listen) ExitError, each after one line on
// stderr.
func (c Command) Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := c.ParseConfig(args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		c.usage(stdout)
		return ExitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "worker: %v (worker -h lists the flags)\n", err)
		return ExitUsage
	}
	code, err := c.run(ctx, cfg, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "worker: %v\n", err)
	}
	return code
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func (c Command) run(ctx context.Context, cfg Config, stdout, stderr io.Writer) (int, error) {
	log := newLogger(cfg, stderr)
	useRedisLogger(log)

	var dev *miniredis.Miniredis
	if cfg.Dev {
		var err error
		dev, err = startDev(&cfg, stdout)
		if err != nil {
			return ExitError, err
		}
		defer dev.Close()
	}

	opt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return ExitUsage, fmt.Errorf("-redis %q: %w", redactURL(cfg.RedisURL), err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	client := taskqueue.NewClient(rdb, &taskqueue.Config{KeyPrefix: cfg.Prefix, Logger: log})
	w, err := worker.New(worker.Config{
		Client:          client,
		Queues:          cfg.Queues,
		Concurrency:     cfg.Concurrency,
		Target:          cfg.Target,
		Secret:          cfg.Secret,
		LeaseDuration:   cfg.Lease,
		DeliveryTimeout: cfg.DeliveryTimeout,
		ShutdownTimeout: cfg.ShutdownTimeout,
		Logger:          log,
	})
	if err != nil {
		return ExitUsage, err
	}

	if err := checkRedis(ctx, rdb); err != nil {
		return ExitError, fmt.Errorf("cannot reach Redis at %s: %w", redactURL(cfg.RedisURL), err)
	}
	if cfg.Target != "" {
		if err := checkTarget(ctx, cfg.Target); err != nil {
			if !cfg.Dev {
				return ExitError, fmt.Errorf("cannot reach target %s: %w", cfg.Target, err)
			}
			// In dev mode the app usually starts after the worker, with the secret it printed.
			log.Warn("target does not answer yet; deliveries are retried with backoff until it does", "target", cfg.Target, "error", err)
		}
	}

	rt := Runtime{Config: cfg, Client: client, Logger: log}
	var srv *http.Server
	if cfg.HTTPAddr != "" {
		mux := newAdminMux(rt)
		for _, ext := range c.Extensions {
			if ext.Mount == nil {
				continue
			}
			if err := ext.Mount(mux, rt); err != nil {
				return ExitError, fmt.Errorf("mount extension on -http: %w", err)
			}
		}
		ln, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			return ExitError, fmt.Errorf("-http %s: %w", cfg.HTTPAddr, err)
		}
		srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("http server stopped", "addr", ln.Addr().String(), "error", err)
			}
		}()
		log.Info("http listening", "addr", ln.Addr().String(), "paths", "/healthz /stats")
	}

	mode := "push"
	if cfg.Target == "" {
		mode = "in-process"
		// Delayed functions that call others add their tasks through the default client.
		taskqueue.SetDefaultClient(client)
		log.Warn("no -target: tasks run in-process through delay.Handler(), which knows only the delay functions linked into this binary; use push mode (-target, -secret) to run them in your app")
	}
	log.Info("worker started", "mode", mode, "target", cfg.Target, "queues", formatQueues(cfg.Queues),
		"concurrency", cfg.Concurrency, "lease", cfg.Lease, "redis", redactURL(cfg.RedisURL), "prefix", cfg.Prefix, "dev", cfg.Dev)

	stopped := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			log.Info("stopping: no new tasks; running tasks may finish", "shutdown_timeout", cfg.ShutdownTimeout)
		case <-stopped:
		}
	}()
	err = w.Run(ctx)
	close(stopped)
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), httpStopTimeout)
		_ = srv.Shutdown(sctx)
		cancel()
	}
	if err != nil {
		return ExitError, fmt.Errorf("worker stopped: %w", err)
	}
	log.Info("worker stopped")
	return ExitOK, nil
}

// checkRedis sends PING.
func checkRedis(ctx context.Context, rdb redis.UniversalClient) error {
	ctx, cancel := context.WithTimeout(ctx, redisCheckTimeout)
	defer cancel()
	return rdb.Ping(ctx).Err()
}

// checkTarget opens and closes a TCP connection to the target's host.
func checkTarget(ctx context.Context, target string) error {
	u, err := url.Parse(target)
	if err != nil {
		return err
	}
	host := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	d := net.Dialer{Timeout: targetCheckTimeout}
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return err
	}
	return conn.Close()
}
