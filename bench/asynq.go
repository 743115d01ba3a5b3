package main

import (
	"context"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// asynqTaskType is the type name of every asynq task the benchmark enqueues.
const asynqTaskType = "bench"

// asynqSystem is hibiken/asynq v0.26.0 with its defaults, except the worker concurrency
// and, where a scenario says so, TaskCheckInterval.
type asynqSystem struct {
	o      *options
	rdb    *redis.Client
	client *asynq.Client
}

func newAsynq(o *options) *asynqSystem {
	rdb := o.newRedis()
	return &asynqSystem{o: o, rdb: rdb, client: asynq.NewClientFromRedisClient(rdb)}
}

func (s *asynqSystem) enqueue(ctx context.Context, payload []byte, eta time.Time) error {
	var opts []asynq.Option
	if !eta.IsZero() {
		opts = append(opts, asynq.ProcessAt(eta))
	}
	_, err := s.client.EnqueueContext(ctx, asynq.NewTask(asynqTaskType, payload), opts...)
	return err
}

// enqueueBatch is not in asynq v0.26.0 (BatchEnqueue exists only on asynq's master).
func (s *asynqSystem) enqueueBatch(context.Context, [][]byte) error { return errNotSupported }

func (s *asynqSystem) startWorker(_ context.Context, cfg workerConfig) (func(), error) {
	rdb := s.o.newRedis()
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency:       cfg.concurrency,
		TaskCheckInterval: cfg.taskCheckInterval,
		LogLevel:          asynq.ErrorLevel,
	})
	deliver, release := cfg.deliver()
	err := srv.Start(asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		return deliver(ctx, t.Payload())
	}))
	if err != nil {
		release()
		rdb.Close()
		return nil, fmt.Errorf("start asynq server: %w", err)
	}
	return func() { srv.Shutdown(); release(); rdb.Close() }, nil
}

func (s *asynqSystem) close() {
	s.client.Close()
	s.rdb.Close()
}
