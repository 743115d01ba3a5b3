package worker

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/redelay/redelay/taskqueue"
)

type ctxKey struct{}

func TestLazyDeadlineEndsAtItsDeadline(t *testing.T) {
	parent := context.WithValue(context.Background(), ctxKey{}, "v")
	deadline := time.Now().Add(20 * time.Millisecond)
	ctx := withLazyDeadline(parent, deadline)
	defer ctx.release()
	if d, ok := ctx.Deadline(); !ok || !d.Equal(deadline) {
		t.Errorf("Deadline() = %v, %v; want %v, true", d, ok, deadline)
	}
	if ctx.Value(ctxKey{}) != "v" {
		t.Error("the parent's value is lost")
	}
	if err := ctx.Err(); err != nil {
		t.Errorf("Err() before the deadline = %v", err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(within):
		t.Fatal("Done not closed after the deadline")
	}
	if err := ctx.Err(); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Err() = %v, want context.DeadlineExceeded", err)
	}
}

func TestLazyDeadlineFollowsItsParent(t *testing.T) {
	parent, cancel := context.WithTimeout(context.Background(), time.Hour)
	ctx := withLazyDeadline(parent, time.Now().Add(2*time.Hour))
	defer ctx.release()
	if d, _ := ctx.Deadline(); d.After(time.Now().Add(time.Hour)) {
		t.Errorf("Deadline() = %v, want the parent's earlier one", d)
	}
	done := ctx.Done()
	cancel()
	select {
	case <-done:
	case <-time.After(within):
		t.Fatal("Done not closed when the parent ended")
	}
	if err := ctx.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("Err() = %v, want context.Canceled", err)
	}
}

func TestLazyDeadlineEndsWhenReleased(t *testing.T) {
	for _, asked := range []bool{false, true} {
		ctx := withLazyDeadline(context.Background(), time.Now().Add(time.Hour))
		if asked {
			ctx.Done()
		}
		ctx.release()
		select {
		case <-ctx.Done():
		default:
			t.Fatalf("Done asked before release %v: not closed after release", asked)
		}
		if err := ctx.Err(); !errors.Is(err, context.Canceled) {
			t.Errorf("Done asked before release %v: Err() = %v, want context.Canceled", asked, err)
		}
	}
}

// TestInProcessHandlerSeesItsDeadline checks that an in-process handler's context carries
// DeliveryTimeout and the Client, and ends when the delivery outlives it.
func TestInProcessHandlerSeesItsDeadline(t *testing.T) {
	c := newClient(t)
	type seen struct {
		deadline time.Duration
		err      error
		client   bool
	}
	ch := make(chan seen, 10)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		d, _ := ctx.Deadline()
		<-ctx.Done()
		from, _ := taskqueue.FromContext(ctx)
		ch <- seen{time.Until(d), ctx.Err(), from == c}
	})
	start(t, Config{Client: c, Handler: h, DeliveryTimeout: 50 * time.Millisecond})
	if _, err := c.Add(context.Background(), &taskqueue.Task{Payload: []byte("x"), RetryOptions: taskqueue.NoRetry()}, ""); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-ch:
		if s.deadline > 50*time.Millisecond {
			t.Errorf("deadline %s ahead, want at most the DeliveryTimeout", s.deadline)
		}
		if !errors.Is(s.err, context.DeadlineExceeded) {
			t.Errorf("ctx.Err() = %v, want context.DeadlineExceeded", s.err)
		}
		if !s.client {
			t.Error("the handler's context does not carry the worker's Client")
		}
	case <-time.After(within):
		t.Fatal("handler's context never ended")
	}
	eventually(t, "task dead", func() bool { return stats(t, c, "default").Dead == 1 })
}
