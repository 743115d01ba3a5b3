package worker

import (
	"context"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redelay/redelay/internal/redistest"
	"github.com/redelay/redelay/taskqueue"
)

// BenchmarkDrain measures how fast one worker (concurrency 50, in-process no-op handler)
// empties a backlog of b.N tasks, on the Redis at REDIS_URL.
func BenchmarkDrain(b *testing.B) {
	rdb := redistest.Real(b)
	c := taskqueue.NewClient(rdb, &taskqueue.Config{KeyPrefix: redistest.Prefix(b, rdb), Logger: quietLogger()})
	ctx := context.Background()
	payload := []byte("12345678")
	batch := make([]*taskqueue.Task, 0, 500)
	for i := 0; i < b.N; i++ {
		batch = append(batch, &taskqueue.Task{Payload: payload})
		if len(batch) == cap(batch) || i == b.N-1 {
			if _, err := c.AddMulti(ctx, batch, ""); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	b.ResetTimer()
	all, stop := benchWorker(b, c, int64(b.N))
	waitAll(b, all)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
	stop()
}

// BenchmarkEndToEnd measures b.N tasks added by 50 goroutines calling Add while one worker
// (concurrency 50, in-process no-op handler) runs them, on the Redis at REDIS_URL.
func BenchmarkEndToEnd(b *testing.B) {
	rdb := redistest.Real(b)
	c := taskqueue.NewClient(rdb, &taskqueue.Config{KeyPrefix: redistest.Prefix(b, rdb), Logger: quietLogger()})
	ctx := context.Background()
	n := int64(b.N)
	all, stop := benchWorker(b, c, n)
	payload := []byte("12345678")
	var next atomic.Int64
	b.ResetTimer()
	for range 50 {
		go func() {
			for next.Add(1) <= n {
				if _, err := c.Add(ctx, &taskqueue.Task{Payload: payload}, ""); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	waitAll(b, all)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
	stop()
}

// benchWorker runs a worker (concurrency 50, or $BENCH_CONCURRENCY) whose no-op handler
// counts deliveries; all is closed at the n-th. stop ends it and fails b if a task was
// delivered twice.
func benchWorker(b *testing.B, c *taskqueue.Client, n int64) (all <-chan struct{}, stop func()) {
	var done atomic.Int64
	allCh := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if done.Add(1) == n { // a task delivered twice would count again, past n
			close(allCh)
		}
	})
	conc := 50
	if v, err := strconv.Atoi(os.Getenv("BENCH_CONCURRENCY")); err == nil {
		conc = v
	}
	w, err := New(Config{Client: c, Handler: h, Concurrency: conc, Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { _ = w.Run(ctx); close(stopped) }()
	return allCh, func() {
		cancel()
		<-stopped
		if extra := done.Load() - n; extra != 0 {
			b.Errorf("%d deliveries beyond the %d tasks", extra, n)
		}
	}
}

// waitAll waits for all, failing b after five minutes.
func waitAll(b *testing.B, all <-chan struct{}) {
	select {
	case <-all:
	case <-time.After(5 * time.Minute):
		b.Fatal("tasks not all run")
	}
}
