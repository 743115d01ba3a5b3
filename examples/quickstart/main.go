// Command quickstart is a small web app that defers work with redelay: three delayed
// functions (one succeeds, one fails twice and then succeeds, one runs two seconds later),
// called from an HTTP handler and run by an in-process worker, and a fourth whose result
// the program waits for. It prints what happens and exits.
//
// It keeps its tasks in an embedded Redis (miniredis) unless REDIS_URL names a real one:
//
//	go run ./examples/quickstart
//	REDIS_URL=redis://127.0.0.1:6379/0 go run ./examples/quickstart
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/redelay/redelay/delay"
	"github.com/redelay/redelay/taskqueue"
	"github.com/redelay/redelay/worker"
)

var (
	started = time.Now()
	done    sync.WaitGroup
	out     io.Writer  = os.Stdout
	outMu   sync.Mutex // the functions run on the worker's goroutines at once
)

func say(format string, args ...any) {
	outMu.Lock()
	defer outMu.Unlock()
	fmt.Fprintf(out, "%6.3fs  "+format+"\n", append([]any{time.Since(started).Seconds()}, args...)...)
}

// sendWelcome always succeeds.
var sendWelcome = delay.Func("send-welcome", func(ctx context.Context, user string) error {
	defer done.Done()
	say("sendWelcome(%q): sent", user)
	return nil
})

// chargeCard fails on its first two attempts, as a flaky payment service would, and
// succeeds on the third. Returning an error makes the worker retry it with backoff.
var chargeCard = delay.Func("charge-card", func(ctx context.Context, user string, cents int) error {
	h, _ := delay.RequestHeaders(ctx)
	if h.TaskRetryCount < 2 {
		say("chargeCard(%q, %d): attempt %d failed, will be retried", user, cents, h.TaskRetryCount+1)
		return errors.New("payment service unavailable")
	}
	defer done.Done()
	say("chargeCard(%q, %d): charged on attempt %d", user, cents, h.TaskRetryCount+1)
	return nil
})

// remind runs two seconds after it is called.
var remind = delay.Func("remind", func(ctx context.Context, user string, calledAt time.Time) error {
	defer done.Done()
	say("remind(%q): ran %.1fs after the call", user, time.Since(calledAt).Seconds())
	return nil
})

// totalCents returns a result: Invoke waits for it, wherever the worker runs.
var totalCents = delay.Func("total-cents", func(ctx context.Context, prices ...int) (int, error) {
	sum := 0
	for _, p := range prices {
		sum += p
	}
	return sum, nil
})

// signup is the web app's handler: it defers the work and answers at once.
func signup(w http.ResponseWriter, r *http.Request) {
	ctx, user := r.Context(), r.FormValue("user")
	if err := sendWelcome.Call(ctx, user); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	// Task lets a call carry options: here a fast retry schedule for the demo.
	charge, err := chargeCard.Task(user, 999)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	charge.RetryOptions = &taskqueue.RetryOptions{MinBackoff: 200 * time.Millisecond, MaxBackoff: time.Second}
	if _, err := taskqueue.Add(ctx, charge, ""); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	later, err := remind.Task(user, time.Now())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	later.Delay = 2 * time.Second
	if _, err := taskqueue.Add(ctx, later, ""); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	fmt.Fprintf(w, "welcome, %s: your account is being set up\n", user)
}

func main() {
	log.SetFlags(0)
	if err := run(); err != nil {
		log.Fatal("quickstart: ", err)
	}
}

func run() error {
	rdb, where, stop, err := connect()
	if err != nil {
		return err
	}
	defer stop()
	// The worker logs at Warn and above: the functions print what they do.
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	client := taskqueue.NewClient(rdb, &taskqueue.Config{KeyPrefix: "quickstart", Logger: logger})
	taskqueue.SetDefaultClient(client)
	if err := client.Purge(context.Background(), "default"); err != nil {
		return fmt.Errorf("%s does not answer: %w", where, err)
	}
	say("tasks are kept in %s", where)

	// The in-process worker runs delay's functions (Handler nil: delay.Handler()).
	w, err := worker.New(worker.Config{Client: client, Concurrency: 4})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	workerDone := make(chan error, 1)
	go func() { workerDone <- w.Run(ctx) }()

	// The web app.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /signup", signup)
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Close()

	done.Add(3)
	resp, err := http.PostForm("http://"+ln.Addr().String()+"/signup", map[string][]string{"user": {"ada"}})
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	say("POST /signup -> %d %s", resp.StatusCode, strings.TrimSpace(string(body)))

	// Invoke enqueues a call and waits for its result.
	waitCtx, stopWaiting := context.WithTimeout(context.Background(), 30*time.Second)
	defer stopWaiting()
	sum, err := delay.Invoke[int](waitCtx, totalCents, 999, 450, 1)
	if err != nil {
		return err
	}
	say("Invoke(totalCents, 999, 450, 1) = %d", sum)

	finished := make(chan struct{})
	go func() { done.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(30 * time.Second):
		return errors.New("the delayed functions did not all finish within 30s")
	}
	cancel()
	if err := <-workerDone; err != nil {
		return err
	}
	st, err := client.QueueStats(context.Background(), []string{"default"})
	if err != nil {
		return err
	}
	say("done: %d tasks left, %d executed in the last minute, %d dead", st[0].Tasks, st[0].Executed1Minute, st[0].Dead)
	return nil
}

// connect returns a client of REDIS_URL, or of an embedded miniredis when it is unset.
func connect() (rdb redis.UniversalClient, where string, stop func(), err error) {
	if url := os.Getenv("REDIS_URL"); url != "" {
		opt, err := redis.ParseURL(url)
		if err != nil {
			return nil, "", nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		c := redis.NewClient(opt)
		return c, url, func() { c.Close() }, nil
	}
	mr, err := miniredis.Run()
	if err != nil {
		return nil, "", nil, err
	}
	c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	return c, "an embedded Redis (miniredis; set REDIS_URL to use a real one)", func() { c.Close(); mr.Close() }, nil
}
