package taskqueue_test

import (
	"context"
	"testing"

	"github.com/redelay/redelay/internal/redistest"
	"github.com/redelay/redelay/taskqueue"
)

// The benchmarks run on the real Redis of REDIS_URL (a reference for later work):
//
//	REDIS_URL=redis://127.0.0.1:6379/0 go test -run '^$' -bench . ./taskqueue/ ./internal/broker/

func benchClient(b *testing.B) (*taskqueue.Client, context.Context) {
	b.Helper()
	rdb := redistest.Real(b)
	c := taskqueue.NewClient(rdb, &taskqueue.Config{KeyPrefix: redistest.Prefix(b, rdb)})
	return c, context.Background()
}

func BenchmarkAdd(b *testing.B) {
	c, ctx := benchClient(b)
	payload := make([]byte, 100)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Add(ctx, &taskqueue.Task{Payload: payload}, "bench"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
}

func BenchmarkAddMulti100(b *testing.B) {
	c, ctx := benchClient(b)
	payload := make([]byte, 100)
	tasks := make([]*taskqueue.Task, 100)
	for i := range tasks {
		tasks[i] = &taskqueue.Task{Payload: payload}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.AddMulti(ctx, tasks, "bench"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(tasks))/b.Elapsed().Seconds(), "tasks/s")
}

// BenchmarkAddParallel is 50 goroutines calling Add at once, whose calls share round trips.
func BenchmarkAddParallel(b *testing.B) {
	c, ctx := benchClient(b)
	payload := make([]byte, 100)
	b.ReportAllocs()
	b.SetParallelism(25) // 50 goroutines on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Add(ctx, &taskqueue.Task{Payload: payload}, "bench"); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
}
