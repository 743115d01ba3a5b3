package main

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The systems compared.
const (
	sysRedelay  = "redelay"
	sysAsynq    = "asynq"
	sysBaseline = "bare Redis"
)

// errNotSupported is returned by a system for a call it has no counterpart of.
var errNotSupported = errors.New("not supported by this system")

// system is one task queue under test, reduced to what the scenarios need. A system is made
// fresh for every run and closed after it.
type system interface {
	// enqueue adds one task carrying payload, due at eta (zero: now).
	enqueue(ctx context.Context, payload []byte, eta time.Time) error
	// enqueueBatch adds one task per payload in a single call, or returns errNotSupported.
	enqueueBatch(ctx context.Context, payloads [][]byte) error
	// startWorker starts one worker, as one process would run it, and returns the function
	// that stops it and waits until it has stopped.
	startWorker(ctx context.Context, cfg workerConfig) (stop func(), err error)
	// close releases the system's connections.
	close()
}

// workerConfig is what a scenario asks of a worker.
type workerConfig struct {
	// concurrency is the number of tasks handled at once.
	concurrency int
	// handle is called with each task's payload when its handler starts. Nil with target.
	handle func(payload []byte)
	// target, when set, is the base URL of an HTTP server every task is POSTed to:
	// redelay's push mode, or a handler that POSTs for the others.
	target string
	// lease is redelay's LeaseDuration; 0 means the worker's default.
	lease time.Duration
	// taskCheckInterval is asynq's TaskCheckInterval; 0 means asynq's default (1 s).
	taskCheckInterval time.Duration
}

// newSystem makes a fresh system of the given name.
func newSystem(name string, o *options) (system, error) {
	switch name {
	case sysRedelay:
		return newRedelay(o), nil
	case sysAsynq:
		return newAsynq(o), nil
	case sysBaseline:
		return newBaseline(o), nil
	}
	return nil, fmt.Errorf("unknown system %q", name)
}

// deliver returns what a worker without a push mode does with each task: call cfg.handle,
// or POST the payload to cfg.target; and the function that releases its resources.
func (cfg workerConfig) deliver() (fn func(ctx context.Context, payload []byte) error, release func()) {
	if cfg.target == "" {
		return func(_ context.Context, payload []byte) error {
			cfg.handle(payload)
			return nil
		}, func() {}
	}
	p := newPoster(cfg.target, cfg.concurrency)
	return p.post, p.close
}
