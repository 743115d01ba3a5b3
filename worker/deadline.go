package worker

import (
	"context"
	"sync"
	"time"
)

// deadlineCtx is the context of an in-process delivery: parent with a deadline. It behaves
// as context.WithDeadline(parent, deadline), but makes the timer and the done channel only
// when a handler first asks for Done, so the many handlers that never wait on their
// context cost no timer. release must be called once the delivery is over.
type deadlineCtx struct {
	context.Context // the parent
	deadline        time.Time

	once   sync.Once
	inner  context.Context // context.WithDeadline(parent, deadline), made by Done
	cancel context.CancelFunc
}

func withLazyDeadline(parent context.Context, deadline time.Time) *deadlineCtx {
	return &deadlineCtx{Context: parent, deadline: deadline}
}

// Deadline returns the delivery's deadline (or the parent's, when earlier).
func (c *deadlineCtx) Deadline() (time.Time, bool) {
	if d, ok := c.Context.Deadline(); ok && d.Before(c.deadline) {
		return d, true
	}
	return c.deadline, true
}

func (c *deadlineCtx) start() {
	c.once.Do(func() { c.inner, c.cancel = context.WithDeadline(c.Context, c.deadline) })
}

// Done returns a channel closed when the deadline passes or the parent ends.
func (c *deadlineCtx) Done() <-chan struct{} {
	c.start()
	return c.inner.Done()
}

// Err returns context.DeadlineExceeded once the deadline has passed, the parent's error once
// it has ended, context.Canceled once the delivery is over, else nil.
func (c *deadlineCtx) Err() error {
	c.start()
	return c.inner.Err()
}

// release ends the context as the cancel of context.WithDeadline would: from now on Done is
// closed and Err is context.Canceled, and the timer, if Done made one, is stopped.
func (c *deadlineCtx) release() {
	c.once.Do(func() { c.inner, c.cancel = endedCtx, func() {} })
	c.cancel()
}

// endedCtx is a context already canceled.
var endedCtx = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()
