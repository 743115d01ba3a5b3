package taskqueue

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/redelay/redelay/internal/broker"
)

// enqueueTimeout bounds a shared enqueue call, which runs on behalf of several callers and
// so on none of their contexts.
const enqueueTimeout = 10 * time.Second

// maxFlying is how many shared enqueue calls of one queue may be in flight at once.
const maxFlying = 2

// coalescer shares round trips among concurrent Adds to the same queue (group commit): a
// caller that finds fewer than maxFlying calls in flight for its queue makes one with every
// task waiting; the others wait for those. One Add alone waits for nobody; many at once cost
// a few script calls.
type coalescer struct {
	mu     sync.Mutex
	queues map[string]*pendingAdds
}

type pendingAdds struct {
	flying int  // calls in flight
	shared bool // the last call carried several callers' tasks
	tasks  []broker.NewTask
	waits  []chan addResult

	// The buffers of a finished call, for the next one to fill.
	spareTasks []broker.NewTask
	spareWaits []chan addResult
}

// resultChans recycles the channels on which Adds wait for their shared call.
var resultChans = sync.Pool{New: func() any { return make(chan addResult, 1) }}

type addResult struct {
	res broker.Enqueued
	err error
}

// enqueue adds one prepared task to queue, in a call shared with concurrent callers.
func (c *Client) enqueue(ctx context.Context, queue string, task broker.NewTask) (broker.Enqueued, error) {
	if err := ctx.Err(); err != nil {
		return broker.Enqueued{}, err
	}
	co := &c.adds
	done := resultChans.Get().(chan addResult)
	co.mu.Lock()
	if co.queues == nil {
		co.queues = map[string]*pendingAdds{}
	}
	p := co.queues[queue]
	if p == nil {
		p = &pendingAdds{}
		co.queues[queue] = p
	}
	p.tasks = append(p.tasks, task)
	p.waits = append(p.waits, done)
	lead := p.flying < maxFlying
	if lead {
		p.flying++
	}
	co.mu.Unlock()
	if lead {
		c.flushAdds(queue, p)
	}
	select {
	case r := <-done:
		resultChans.Put(done) // empty again; a channel left behind on ctx's end is not reused
		return r.res, r.err
	case <-ctx.Done():
		return broker.Enqueued{}, ctx.Err()
	}
}

// flushAdds sends the waiting tasks of queue in one call, then hands what arrived meanwhile
// to a new leader, so the caller that led returns without serving everyone after it.
func (c *Client) flushAdds(queue string, p *pendingAdds) {
	co := &c.adds
	co.mu.Lock()
	shared := p.shared
	co.mu.Unlock()
	if shared {
		// Others are adding too: let the runnable ones join this call first.
		runtime.Gosched()
	}
	co.mu.Lock()
	tasks, waits := p.tasks, p.waits
	p.tasks, p.waits = p.spareTasks, p.spareWaits
	p.spareTasks, p.spareWaits = nil, nil
	p.shared = len(tasks) > 1
	if len(tasks) == 0 { // another call took them
		p.flying--
		co.mu.Unlock()
		return
	}
	co.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), enqueueTimeout)
	res, err := c.b.Enqueue(ctx, queue, c.now().UnixMilli(), tasks)
	cancel()
	for i, w := range waits {
		if err != nil {
			w <- addResult{err: err}
		} else {
			w <- addResult{res: res[i]}
		}
	}

	co.mu.Lock()
	if p.spareTasks == nil && cap(tasks) <= 4096 {
		clear(tasks) // let go of the envelopes
		clear(waits)
		p.spareTasks, p.spareWaits = tasks[:0], waits[:0]
	}
	more := len(p.tasks) > 0
	if !more {
		p.flying--
	}
	co.mu.Unlock()
	if more {
		go c.flushAdds(queue, p)
	}
}
