package taskqueue

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Wait blocks until the task named name in queue has finished (succeeded or dead) and
// returns its status, or returns ctx's error when ctx ends first (the task goes on). It does
// not poll: it subscribes to the queue's announcements of finished tasks and reads the
// task's status when it is announced (and once after subscribing, or re-subscribing after a
// lost connection). Errors: ErrTaskNotFound when the task is unknown or its status expired.
func (c *Client) Wait(ctx context.Context, queue, name string) (*Status, error) {
	q, err := queueName(queue)
	if err != nil {
		return nil, err
	}
	if err := checkTaskName(name); err != nil {
		return nil, err
	}
	w, ready := c.hub().add(c.b.FinishedChannel(q), name)
	defer c.hub().remove(w)
	select {
	case <-ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	for {
		st, err := c.Status(ctx, q, name)
		if err != nil || st.Done() {
			return st, err
		}
		select {
		case <-w.wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// waitHub shares one Pub/Sub connection among a client's waiters.
type waitHub struct {
	rdb      redis.UniversalClient
	mu       sync.Mutex
	ps       *redis.PubSub
	channels map[string]*hubChannel
}

type hubChannel struct {
	ready   chan struct{} // closed once subscribed
	isReady bool
	waiters map[string]map[*waiter]struct{} // task name -> waiters
}

type waiter struct {
	channel, name string
	wake          chan struct{} // buffered: a pending wake-up is never lost
}

func (w *waiter) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (c *Client) hub() *waitHub {
	c.hubOnce.Do(func() {
		c.waits = &waitHub{rdb: c.b.Redis(), channels: map[string]*hubChannel{}}
	})
	return c.waits
}

// add registers a waiter for name on channel and returns it with a channel closed once the
// subscription is active.
func (h *waitHub) add(channel, name string) (*waiter, <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ps == nil {
		h.ps = h.rdb.Subscribe(context.Background())
		go h.receive(h.ps)
	}
	ch := h.channels[channel]
	if ch == nil {
		ch = &hubChannel{ready: make(chan struct{}), waiters: map[string]map[*waiter]struct{}{}}
		h.channels[channel] = ch
		_ = h.ps.Subscribe(context.Background(), channel)
	}
	w := &waiter{channel: channel, name: name, wake: make(chan struct{}, 1)}
	if ch.waiters[name] == nil {
		ch.waiters[name] = map[*waiter]struct{}{}
	}
	ch.waiters[name][w] = struct{}{}
	return w, ch.ready
}

func (h *waitHub) remove(w *waiter) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ch := h.channels[w.channel]; ch != nil {
		delete(ch.waiters[w.name], w)
		if len(ch.waiters[w.name]) == 0 {
			delete(ch.waiters, w.name)
		}
	}
}

// receive dispatches announcements to waiters. A (re)subscription wakes every waiter of
// its channel, since announcements made while the connection was down are lost.
func (h *waitHub) receive(ps *redis.PubSub) {
	for {
		msg, err := ps.Receive(context.Background())
		if err != nil {
			if err == redis.ErrClosed {
				return
			}
			time.Sleep(100 * time.Millisecond) // go-redis reconnects and re-subscribes on the next Receive
			continue
		}
		h.mu.Lock()
		switch m := msg.(type) {
		case *redis.Subscription:
			if ch := h.channels[m.Channel]; ch != nil && m.Kind == "subscribe" {
				if !ch.isReady {
					ch.isReady = true
					close(ch.ready)
				}
				for _, ws := range ch.waiters {
					for w := range ws {
						w.signal()
					}
				}
			}
		case *redis.Message:
			if ch := h.channels[m.Channel]; ch != nil {
				for _, name := range strings.Split(m.Payload, ",") {
					for w := range ch.waiters[name] {
						w.signal()
					}
				}
			}
		}
		h.mu.Unlock()
	}
}

// Close releases what the client holds beyond its Redis client: the Pub/Sub connection of
// Wait. It does not close the Redis client, which the caller owns. Wait calls in progress
// return when their context ends.
func (c *Client) Close() error {
	h := c.hub()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ps == nil {
		return nil
	}
	err := h.ps.Close()
	h.ps = nil
	h.channels = map[string]*hubChannel{}
	return err
}
