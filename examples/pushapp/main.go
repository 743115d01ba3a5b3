// Command pushapp is the app side of push mode, small enough to read in a minute: it
// registers a delay function, serves delay.Handler() behind taskqueue.RequireSignature, and
// calls the function later when asked over HTTP. The worker binary (cmd/worker) delivers the
// calls to it:
//
//	export REDELAY_SECRET=$(openssl rand -hex 32)
//	go run ./cmd/worker -dev -target http://127.0.0.1:8080 -http 127.0.0.1:8081 &
//	go run ./examples/pushapp &
//	curl -d name=Gopher http://127.0.0.1:8080/greet
//
// Environment: REDIS_URL (default redis://127.0.0.1:6379/0, dev mode's address),
// REDELAY_SECRET (required: the worker's -secret), REDELAY_PREFIX (the worker's -prefix, if
// it has one) and ADDR (default :8080).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redelay/redelay/delay"
	"github.com/redelay/redelay/taskqueue"
)

// greet runs in a later delivery, as often as it takes to succeed.
var greet = delay.Func("greet", func(ctx context.Context, name string) error {
	h, err := delay.RequestHeaders(ctx)
	if err != nil {
		return err
	}
	slog.Info("greeted", "name", name, "task", h.TaskName, "queue", h.QueueName, "attempt", h.TaskRetryCount+1)
	return nil
})

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "pushapp: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	secret := os.Getenv("REDELAY_SECRET")
	if secret == "" {
		return errors.New("REDELAY_SECRET is not set: it must be the worker's -secret")
	}
	url := os.Getenv("REDIS_URL")
	if url == "" {
		url = taskqueue.DefaultRedisURL
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		return fmt.Errorf("REDIS_URL: %w", err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	taskqueue.SetDefaultClient(taskqueue.NewClient(rdb, &taskqueue.Config{KeyPrefix: os.Getenv("REDELAY_PREFIX")}))

	mux := http.NewServeMux()
	// Deliveries: only those signed with the worker's secret reach delay.Handler().
	mux.Handle(delay.Path, taskqueue.RequireSignature([]byte(secret), delay.Handler()))
	mux.HandleFunc("POST /greet", func(w http.ResponseWriter, r *http.Request) {
		name := r.FormValue("name")
		if name == "" {
			name = "world"
		}
		if err := greet.Call(r.Context(), name); err != nil {
			slog.Error("enqueue failed", "error", err)
			http.Error(w, "could not queue the greeting", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "queued a greeting for %s\n", name)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })

	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = ":8080"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	slog.Info("pushapp listening", "addr", ln.Addr().String())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
