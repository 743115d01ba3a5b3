package worker

import (
	"context"
	"sync"
	"time"

	"github.com/redelay/redelay/internal/broker"
)

// maxAckBatch bounds the acks sent in one round trip.
const maxAckBatch = 1000

// While several acks are waiting at once but fewer than ackLingerBatch, the acker waits up
// to ackLinger for more before it sends them.
const (
	ackLinger      = 500 * time.Microsecond
	ackLingerBatch = 64
)

type ackItem struct {
	queue string
	ack   broker.Ack
}

// acker records successful deliveries in groups: it takes whatever acks are waiting when
// it is free (one when idle, hundreds under load) and sends them in one round trip.
type acker struct {
	w      *Worker
	ch     chan ackItem
	done   chan struct{}
	mu     sync.RWMutex
	closed bool
}

func newAcker(w *Worker) *acker {
	return &acker{w: w, ch: make(chan ackItem, 4*maxAckBatch), done: make(chan struct{})}
}

// add queues an ack; after close it drops it (Run has returned and put the task back).
func (a *acker) add(it ackItem) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if !a.closed {
		a.ch <- it
	}
}

func (a *acker) loop() {
	defer close(a.done)
	batch := make([]ackItem, 0, maxAckBatch)
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	for first := range a.ch {
		batch = append(batch[:0], first)
		a.fill(&batch, nil)
		if len(batch) > 1 && len(batch) < ackLingerBatch {
			// Acks are flowing: wait a moment for more, so one round trip carries them.
			linger.Reset(ackLinger)
			a.fill(&batch, linger.C)
			linger.Stop()
		}
		a.flush(batch)
	}
}

func (a *acker) flush(batch []ackItem) {
	w := a.w
	var batches []broker.AckBatch
	var counts []int
	index := map[string]int{}
	for _, it := range batch {
		i, ok := index[it.queue]
		if !ok {
			i = len(batches)
			index[it.queue] = i
			batches = append(batches, broker.AckBatch{Queue: it.queue})
			counts = append(counts, 0)
		}
		counts[i]++
	}
	for i := range batches {
		batches[i].Acks = make([]broker.Ack, 0, counts[i])
	}
	for _, it := range batch {
		i := index[it.queue]
		batches[i].Acks = append(batches[i].Acks, it.ack)
	}
	err := retryFor(time.Minute, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var failed []broker.AckBatch
		var firstErr error
		for i, err := range w.b.AckMulti(ctx, w.now().UnixMilli(), w.tombMs, w.resultTTL.Milliseconds(), batches) {
			if err != nil {
				failed = append(failed, batches[i])
				if firstErr == nil {
					firstErr = err
				}
			}
		}
		batches = failed
		if firstErr != nil {
			w.log.Warn("ack failed; retrying", "error", firstErr)
		}
		return firstErr
	})
	if err != nil {
		w.log.Error("ack failed; the tasks run again when their leases expire", "error", err)
	}
	for _, it := range batch {
		w.held.remove(it.queue, it.ack.Name, it.ack.Token)
	}
}

// fill adds waiting acks to batch; with wait non-nil it also waits for more until wait
// fires or the batch is full.
func (a *acker) fill(batch *[]ackItem, wait <-chan time.Time) {
	for len(*batch) < maxAckBatch {
		if wait == nil {
			select {
			case it, ok := <-a.ch:
				if !ok {
					return
				}
				*batch = append(*batch, it)
			default:
				return
			}
			continue
		}
		select {
		case it, ok := <-a.ch:
			if !ok {
				return
			}
			*batch = append(*batch, it)
		case <-wait:
			return
		}
	}
}

// close flushes the waiting acks and stops the acker.
func (a *acker) close() {
	a.mu.Lock()
	a.closed = true
	close(a.ch)
	a.mu.Unlock()
	<-a.done
}
