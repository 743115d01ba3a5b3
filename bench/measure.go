package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// settle is how long a worker runs before the producers start in the scenarios whose
// worker is "already running".
const settle = 300 * time.Millisecond

// stamp is the 8-byte payload every task carries: a time in Unix nanoseconds.
func stamp(t time.Time) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, uint64(t.UnixNano()))
	return b
}

// unstamp reads a stamp; the zero time if payload is not one.
func unstamp(payload []byte) time.Time {
	if len(payload) != 8 {
		return time.Time{}
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(payload)))
}

// counter counts handled tasks and says when want of them were handled. Tasks handled
// twice (at-least-once delivery) count twice.
type counter struct {
	n    atomic.Int64
	want int64
	done chan struct{}
}

func newCounter(want int) *counter {
	return &counter{want: int64(want), done: make(chan struct{})}
}

func (c *counter) add() {
	if c.n.Add(1) == c.want {
		close(c.done)
	}
}

// wait blocks until want tasks were handled, ctx ends or timeout passes.
func (c *counter) wait(ctx context.Context, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return fmt.Errorf("handled %d of %d tasks within %s", c.n.Load(), c.want, timeout)
	}
}

// recorder keeps one duration per handled task, up to its capacity.
type recorder struct {
	counter
	next atomic.Int64
	d    []time.Duration
}

func newRecorder(n int) *recorder {
	return &recorder{counter: counter{want: int64(n), done: make(chan struct{})}, d: make([]time.Duration, n)}
}

func (r *recorder) record(d time.Duration) {
	if i := r.next.Add(1) - 1; i < int64(len(r.d)) {
		r.d[i] = d
	}
	r.add()
}

func (r *recorder) durations() []time.Duration { return r.d[:min(r.next.Load(), int64(len(r.d)))] }

// produce runs fn for i in [0, n) on producers goroutines, each taking a contiguous share,
// and returns the first error.
func produce(ctx context.Context, n, producers int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for p := range producers {
		lo, hi := p*n/producers, (p+1)*n/producers
		wg.Go(func() {
			for i := lo; i < hi && ctx.Err() == nil; i++ {
				if err := fn(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// enqueueN adds n tasks (payload: the time of the call) on producers goroutines, one per
// call, or in calls of batch tasks when batch > 1.
func enqueueN(ctx context.Context, sys system, n, producers, batch int) error {
	if batch <= 1 {
		return produce(ctx, n, producers, func(ctx context.Context, _ int) error {
			return sys.enqueue(ctx, stamp(time.Now()), time.Time{})
		})
	}
	calls := (n + batch - 1) / batch
	return produce(ctx, calls, producers, func(ctx context.Context, i int) error {
		size := min(batch, n-i*batch)
		payloads := make([][]byte, size)
		now := time.Now()
		for j := range payloads {
			payloads[j] = stamp(now)
		}
		return sys.enqueueBatch(ctx, payloads)
	})
}

// prefill adds n waiting tasks as fast as the system allows: batches of 100 on 4
// producers where it has batches, else one task per call on 50 producers.
func prefill(ctx context.Context, sys system, n int) error {
	err := enqueueN(ctx, sys, min(n, 100), 1, 100)
	if errors.Is(err, errNotSupported) {
		return enqueueN(ctx, sys, n, 50, 1)
	}
	if err != nil || n <= 100 {
		return err
	}
	return enqueueN(ctx, sys, n-100, 4, 100)
}

// rate is tasks per second.
func rate(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }

// measureEnqueue is the rate at which producers add n tasks.
func measureEnqueue(ctx context.Context, sys system, n, producers, batch int) (float64, error) {
	start := time.Now()
	if err := enqueueN(ctx, sys, n, producers, batch); err != nil {
		return 0, err
	}
	return rate(n, time.Since(start)), nil
}

// drainResult is scenario 3's outcome: the rate, and Redis's work per task.
type drainResult struct {
	rate    float64
	work    serverWork // per task; cpu in seconds
	counted bool       // work was read
}

// measureDrain fills a backlog of n tasks, then times one worker from its start until cnt
// has counted them all (cfg.handle or the push target counts). r.rdb reads Redis's command
// statistics around the drain.
func measureDrain(ctx context.Context, r *run, n int, cfg workerConfig, cnt *counter) (drainResult, error) {
	if err := prefill(ctx, r.sys, n); err != nil {
		return drainResult{}, fmt.Errorf("fill the backlog: %w", err)
	}
	var res drainResult
	before, statErr := readServerWork(ctx, r.rdb)
	start := time.Now()
	stop, err := r.sys.startWorker(ctx, cfg)
	if err != nil {
		return drainResult{}, err
	}
	err = cnt.wait(ctx, r.o.runTimeout)
	elapsed := time.Since(start)
	stop()
	if err != nil {
		return drainResult{}, err
	}
	res.rate = rate(n, elapsed)
	if after, err := readServerWork(ctx, r.rdb); err == nil && statErr == nil {
		res.work, res.counted = after.sub(before), true
	}
	return res, nil
}

// measureEndToEnd starts a worker, lets it settle, then times producers adding n tasks
// one per call until cnt has counted them all (cfg.handle or the push target counts).
func measureEndToEnd(ctx context.Context, r *run, n, producers int, cfg workerConfig, cnt *counter) (float64, error) {
	stop, err := r.sys.startWorker(ctx, cfg)
	if err != nil {
		return 0, err
	}
	defer stop()
	time.Sleep(settle)
	start := time.Now()
	if err := enqueueN(ctx, r.sys, n, producers, 1); err != nil {
		return 0, err
	}
	if err := cnt.wait(ctx, r.o.runTimeout); err != nil {
		return 0, err
	}
	return rate(n, time.Since(start)), nil
}

// measurePickup adds count tasks at a steady rate per second, each stamped with the time
// of its enqueue, and returns each task's time from enqueue to its handler's start.
func measurePickup(ctx context.Context, r *run, count, perSecond int, cfg workerConfig) ([]time.Duration, error) {
	rec := newRecorder(count)
	cfg.handle = func(p []byte) { rec.record(time.Since(unstamp(p))) }
	stop, err := r.sys.startWorker(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer stop()
	time.Sleep(settle)
	interval := time.Second / time.Duration(perSecond)
	start := time.Now()
	for i := range count {
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
		if err := r.sys.enqueue(ctx, stamp(time.Now()), time.Time{}); err != nil {
			return nil, err
		}
	}
	if err := rec.wait(ctx, r.o.runTimeout); err != nil {
		return nil, err
	}
	return rec.durations(), nil
}

// measureLateness adds count tasks due over spread, starting 1 s from now, each stamped
// with its ETA (whole milliseconds), to a running worker, and returns each task's handler
// start minus its ETA (negative when early).
func measureLateness(ctx context.Context, r *run, count int, spread time.Duration, cfg workerConfig) ([]time.Duration, error) {
	rec := newRecorder(count)
	cfg.handle = func(p []byte) { rec.record(time.Since(unstamp(p))) }
	stop, err := r.sys.startWorker(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer stop()
	first := time.Now().Add(time.Second).Truncate(time.Millisecond)
	err = produce(ctx, count, r.o.c, func(ctx context.Context, i int) error {
		eta := first.Add(spread * time.Duration(i) / time.Duration(count)).Truncate(time.Millisecond)
		return r.sys.enqueue(ctx, stamp(eta), eta)
	})
	if err != nil {
		return nil, err
	}
	if err := rec.wait(ctx, spread+r.o.runTimeout); err != nil {
		return nil, err
	}
	return rec.durations(), nil
}

// measureMemory is Redis's used_memory growth per waiting task after adding n tasks with
// an 8-byte payload.
func measureMemory(ctx context.Context, r *run, n int) (float64, error) {
	before, err := usedMemory(ctx, r.rdb)
	if err != nil {
		return 0, err
	}
	if err := prefill(ctx, r.sys, n); err != nil {
		return 0, err
	}
	after, err := usedMemory(ctx, r.rdb)
	if err != nil {
		return 0, err
	}
	return float64(after-before) / float64(n), nil
}
