package main

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Shape of the bare-Redis baseline.
const (
	baselineKey   = "bench:bare"
	baselineBatch = 100 // payloads per pipeline and per RPOP
)

// baselineSystem is bare Redis with no task semantics: LPUSH of the payload (pipelined in
// batches of 100 for enqueueBatch), and a worker whose single fetch loop pops up to 100
// payloads per RPOP (BRPOP when the list is empty) and hands them to its handlers. Nothing is
// leased, acked, retried or named, so it is the practical limit of this machine and this
// Redis, not a competitor.
type baselineSystem struct {
	o   *options
	rdb *redis.Client
}

func newBaseline(o *options) *baselineSystem {
	return &baselineSystem{o: o, rdb: o.newRedis()}
}

func (s *baselineSystem) enqueue(ctx context.Context, payload []byte, eta time.Time) error {
	if !eta.IsZero() {
		return errNotSupported
	}
	return s.rdb.LPush(ctx, baselineKey, payload).Err()
}

func (s *baselineSystem) enqueueBatch(ctx context.Context, payloads [][]byte) error {
	pipe := s.rdb.Pipeline()
	for _, p := range payloads {
		pipe.LPush(ctx, baselineKey, p)
	}
	_, err := pipe.Exec(ctx)
	return err
}

func (s *baselineSystem) startWorker(ctx context.Context, cfg workerConfig) (func(), error) {
	rdb := s.o.newRedis()
	ctx, cancel := context.WithCancel(ctx)
	deliver, release := cfg.deliver()
	tasks := make(chan []byte, 2*baselineBatch)
	var handlers sync.WaitGroup
	for range cfg.concurrency {
		handlers.Go(func() {
			for p := range tasks {
				_ = deliver(ctx, p)
			}
		})
	}
	fetched := make(chan struct{})
	go func() {
		defer close(fetched)
		defer close(tasks)
		for ctx.Err() == nil {
			vals, err := rdb.RPopCount(ctx, baselineKey, baselineBatch).Result()
			if errors.Is(err, redis.Nil) || (err == nil && len(vals) == 0) {
				// Empty: block until a push (1 s is BRPOP's shortest timeout in go-redis).
				vals, err = rdb.BRPop(ctx, time.Second, baselineKey).Result()
				if err == nil {
					vals = vals[1:] // drop the key name
				}
			}
			if errors.Is(err, redis.Nil) {
				continue // BRPOP timed out
			}
			if err != nil {
				time.Sleep(10 * time.Millisecond) // Redis trouble, or the worker is stopping
				continue
			}
			for _, v := range vals {
				tasks <- []byte(v)
			}
		}
	}()
	return func() {
		cancel()
		<-fetched
		handlers.Wait()
		release()
		rdb.Close()
	}, nil
}

func (s *baselineSystem) close() { s.rdb.Close() }
