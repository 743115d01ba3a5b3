package taskqueue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redelay/redelay/internal/redistest"
)

// scriptCounter counts enqueue script calls and the tasks they carry, and holds every call
// until release is closed.
type scriptCounter struct {
	calls   atomic.Int32
	tasks   atomic.Int32
	release chan struct{}
}

func (h *scriptCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *scriptCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (h *scriptCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == "evalsha" { // a first call also sends EVAL when the script is not cached
			// EVALSHA sha numkeys <10 keys> now check <6 per task>
			h.tasks.Add(int32((len(cmd.Args()) - 15) / 6))
			h.calls.Add(1)
			<-h.release
		}
		return next(ctx, cmd)
	}
}

func TestConcurrentAddsShareRoundTrips(t *testing.T) {
	t.Parallel()
	_, rdb := redistest.Miniredis(t)
	hook := &scriptCounter{release: make(chan struct{})}
	rdb.(*redis.Client).AddHook(hook)
	c := NewClient(rdb, nil)
	ctx := context.Background()

	const n = 100
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Two callers per name: one of each pair must find it taken.
			_, errs[i] = c.Add(ctx, &Task{Name: fmt.Sprintf("t%d", i/2)}, "")
		}()
	}
	// The first calls (maxFlying of them) are held in flight until every other caller is
	// waiting behind them.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.adds.mu.Lock()
		waiting := 0
		if p := c.adds.queues["default"]; p != nil {
			waiting = len(p.tasks)
		}
		c.adds.mu.Unlock()
		if int(hook.calls.Load()) == maxFlying && waiting+int(hook.tasks.Load()) == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d calls carrying %d tasks in flight, %d callers waiting; want %d calls and %d in all",
				hook.calls.Load(), hook.tasks.Load(), waiting, maxFlying, n)
		}
		time.Sleep(time.Millisecond)
	}
	close(hook.release)
	wg.Wait()

	if got := hook.calls.Load(); got != maxFlying+1 {
		t.Errorf("%d script calls for %d concurrent Adds, want %d (those in flight, then all the others together)", got, n, maxFlying+1)
	}
	dups := 0
	for _, err := range errs {
		switch {
		case errors.Is(err, ErrTaskAlreadyAdded):
			dups++
		case err != nil:
			t.Fatalf("Add: %v", err)
		}
	}
	if dups != n/2 {
		t.Errorf("%d duplicates, want %d", dups, n/2)
	}
	st, err := c.QueueStats(ctx, []string{""})
	if err != nil || st[0].Tasks != n/2 {
		t.Errorf("stats %+v, %v; want %d tasks", st, err, n/2)
	}
}
