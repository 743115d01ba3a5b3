package broker

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redelay/redelay/internal/redistest"
)

// BenchmarkLeaseAck100 measures a worker's hot path on the real Redis of REDIS_URL: lease
// 100 due push tasks in one call, then ack them in one call. The 100 tasks of each round
// are enqueued with the timer stopped.
//
//	REDIS_URL=redis://127.0.0.1:6379/0 go test -run '^$' -bench LeaseAck ./internal/broker/
func BenchmarkLeaseAck100(b *testing.B) {
	rdb := redistest.Real(b)
	br := New(rdb, redistest.Prefix(b, rdb))
	ctx := context.Background()
	env := make([]byte, 120)
	batch := make([]NewTask, 100)
	acks := make([]Ack, 0, 100)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		now := time.Now().UnixMilli()
		for j := range batch {
			batch[j] = NewTask{Name: fmt.Sprintf("t%d-%d", i, j), Envelope: env, Due: now}
		}
		if _, err := br.Enqueue(ctx, "bench", now, batch); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()

		res := br.Lease(ctx, now, []LeaseRequest{{Queue: "bench", Limit: 100, LeaseMs: 30_000}})
		if res[0].Err != nil || len(res[0].Tasks) != 100 {
			b.Fatalf("leased %d: %v", len(res[0].Tasks), res[0].Err)
		}
		acks = acks[:0]
		for _, l := range res[0].Tasks {
			acks = append(acks, Ack{Name: l.Name, Token: l.Token})
		}
		done, err := br.Ack(ctx, "bench", now, 3_600_000, 0, acks)
		if err != nil || len(done) != 100 {
			b.Fatalf("acked %d: %v", len(done), err)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "tasks/s")
}
