package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redelay/redelay/taskqueue"
	"github.com/redelay/redelay/worker"
)

// redelayPrefix is the KeyPrefix of the benchmark's redelay clients.
const redelayPrefix = "redelay-bench"

// redelaySystem is redelay's taskqueue.Client and worker, on the default queue.
type redelaySystem struct {
	o   *options
	rdb *redis.Client
	c   *taskqueue.Client
}

func newRedelay(o *options) *redelaySystem {
	rdb := o.newRedis()
	return &redelaySystem{o: o, rdb: rdb, c: o.newRedelayClient(rdb)}
}

// newRedelayClient returns a redelay client with the benchmark's key prefix and -result-ttl.
func (o *options) newRedelayClient(rdb *redis.Client) *taskqueue.Client {
	return taskqueue.NewClient(rdb, &taskqueue.Config{KeyPrefix: redelayPrefix, ResultTTL: o.resultTTL})
}

func (s *redelaySystem) enqueue(ctx context.Context, payload []byte, eta time.Time) error {
	_, err := s.c.Add(ctx, &taskqueue.Task{Payload: payload, ETA: eta}, "")
	return err
}

func (s *redelaySystem) enqueueBatch(ctx context.Context, payloads [][]byte) error {
	tasks := make([]*taskqueue.Task, len(payloads))
	for i, p := range payloads {
		tasks[i] = &taskqueue.Task{Payload: p}
	}
	_, err := s.c.AddMulti(ctx, tasks, "")
	return err
}

func (s *redelaySystem) close() { s.rdb.Close() }

// startWorker runs a redelay worker on the default queue: in-process, handing each task's
// payload (the request body) to cfg.handle, or in push mode, POSTing to cfg.target.
func (s *redelaySystem) startWorker(ctx context.Context, cfg workerConfig) (func(), error) {
	rdb := s.o.newRedis()
	wc := worker.Config{
		Client:        s.o.newRedelayClient(rdb),
		Queues:        map[string]int{"default": 1},
		Concurrency:   cfg.concurrency,
		LeaseDuration: cfg.lease,
	}
	if cfg.target != "" {
		wc.Target = cfg.target
		wc.Secret = pushSecret
	} else {
		wc.Handler = http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			// The payload in a buffer of its Content-Length, as asynq's handler gets
			// t.Payload() with no copy; io.ReadAll would start at 512 bytes.
			body := make([]byte, max(r.ContentLength, 0))
			_, _ = io.ReadFull(r.Body, body)
			cfg.handle(body)
		})
	}
	w, err := worker.New(wc)
	if err != nil {
		rdb.Close()
		return nil, fmt.Errorf("new redelay worker: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			fmt.Fprintln(os.Stderr, "bench: redelay worker:", err)
		}
		rdb.Close()
	}, nil
}
