package worker

import (
	"context"
	"sync"
	"time"

	"github.com/redelay/redelay/internal/broker"
)

// leaseSet is the leases this worker holds: leased tasks not yet acked, retried or buried.
type leaseSet struct {
	mu sync.Mutex
	m  map[string]map[string]int64 // queue -> task -> token
}

func newLeaseSet() *leaseSet { return &leaseSet{m: map[string]map[string]int64{}} }

func (s *leaseSet) add(queue, name string, token int64) {
	s.mu.Lock()
	q := s.m[queue]
	if q == nil {
		q = map[string]int64{}
		s.m[queue] = q
	}
	q[name] = token
	s.mu.Unlock()
}

func (s *leaseSet) remove(queue, name string, token int64) {
	s.mu.Lock()
	if s.m[queue][name] == token {
		delete(s.m[queue], name)
	}
	s.mu.Unlock()
}

func (s *leaseSet) snapshot() map[string][]broker.Lease {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string][]broker.Lease, len(s.m))
	for q, tasks := range s.m {
		for name, tok := range tasks {
			out[q] = append(out[q], broker.Lease{Name: name, Token: tok})
		}
	}
	return out
}

// extender renews the leases of held tasks every LeaseDuration/3, so a running task is
// not delivered again while this worker lives.
type extender struct {
	w       *Worker
	stopped chan struct{}
	done    chan struct{}
}

func newExtender(w *Worker) *extender {
	return &extender{w: w, stopped: make(chan struct{}), done: make(chan struct{})}
}

func (e *extender) loop() {
	defer close(e.done)
	t := time.NewTicker(e.w.cfg.LeaseDuration / 3)
	defer t.Stop()
	for {
		select {
		case <-e.stopped:
			return
		case <-t.C:
			e.extend()
		}
	}
}

func (e *extender) extend() {
	w := e.w
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.LeaseDuration/3)
	defer cancel()
	for q, leases := range w.held.snapshot() {
		states, err := w.b.ExtendLeases(ctx, q, w.now().UnixMilli(), w.cfg.LeaseDuration.Milliseconds(), leases)
		if err != nil {
			w.log.Warn("extend leases failed", "queue", q, "tasks", len(leases), "error", err)
			continue
		}
		for i, state := range states {
			switch state {
			case broker.LeaseTaken, broker.LeaseExpired:
				w.log.Warn("lease lost to another delivery; the task may run twice", "queue", q, "task", leases[i].Name)
				w.held.remove(q, leases[i].Name, leases[i].Token)
			case broker.LeaseGone:
				// Acked while this ran, or deleted: nothing to extend.
				w.held.remove(q, leases[i].Name, leases[i].Token)
			}
		}
	}
}

func (e *extender) stop() {
	close(e.stopped)
	<-e.done
}
