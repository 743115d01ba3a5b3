package delay_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redelay/redelay/delay"
	"github.com/redelay/redelay/taskqueue"
)

type quote struct {
	Symbol string
	Cents  int64
}

var (
	priceOf = delay.Func("price-of", func(ctx context.Context, symbol string) (*quote, error) {
		if symbol == "" {
			return nil, delay.Permanent(errors.New("no symbol"))
		}
		return &quote{Symbol: symbol, Cents: int64(len(symbol)) * 100}, nil
	})
	double   = delay.Func("double", func(ctx context.Context, n int) (int, error) { return 2 * n, nil })
	nothing  = delay.Func("nothing", func(ctx context.Context) error { return nil })
	flakyErr = delay.Func("always-fails", func(ctx context.Context) (string, error) { return "", errors.New("upstream down") })
)

func TestInvokeReturnsTheResult(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	q, err := delay.Invoke[*quote](e.ctx, priceOf, "ACME")
	if err != nil || q == nil || q.Symbol != "ACME" || q.Cents != 400 {
		t.Fatalf("Invoke = %+v, %v; want ACME at 400", q, err)
	}
	n, err := delay.Invoke[int](e.ctx, double, 21)
	if err != nil || n != 42 {
		t.Fatalf("Invoke(double, 21) = %d, %v; want 42", n, err)
	}
	// A func with no result gives T's zero value.
	if v, err := delay.Invoke[string](e.ctx, nothing); err != nil || v != "" {
		t.Fatalf("Invoke(nothing) = %q, %v", v, err)
	}
}

func TestInvokeOfAPermanentFailure(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	_, err := delay.Invoke[*quote](e.ctx, priceOf, "")
	var te *delay.TaskError
	if !errors.Is(err, delay.ErrPermanent) || !errors.As(err, &te) || !strings.Contains(te.LastError, "no symbol") {
		t.Fatalf("Invoke = %v; want a permanent *TaskError carrying the func's error", err)
	}
}

func TestResultOfATaskOutOfRetries(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	task, err := flakyErr.Task()
	if err != nil {
		t.Fatal(err)
	}
	task.RetryOptions = quickRetry(1)
	added := e.add(t, task, "")
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	st, err := e.c.Wait(ctx, "", added.Name)
	if err != nil {
		t.Fatal(err)
	}
	_, err = delay.Result[string](st)
	if err == nil || errors.Is(err, delay.ErrPermanent) || !strings.Contains(err.Error(), "upstream down") {
		t.Fatalf("Result = %v; want a non-permanent failure carrying the func's error", err)
	}
}

func TestEnqueueReturnsTheCallID(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	task, err := double.Enqueue(e.ctx, 5)
	if err != nil || task.Name == "" {
		t.Fatalf("Enqueue = %+v, %v", task, err)
	}
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	st, err := e.c.Wait(ctx, "", task.Name)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := delay.Result[int](st); err != nil || n != 10 {
		t.Fatalf("Result = %d, %v; want 10", n, err)
	}
	if _, err := delay.Result[int](&taskqueue.Status{State: taskqueue.StateWaiting}); err == nil {
		t.Fatal("Result of an unfinished task: no error")
	}
}

func TestInvokeEndsWithItsContext(t *testing.T) {
	t.Parallel()
	ctx, c := setup(t) // no worker runs: the task waits
	ctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := delay.Invoke[int](ctx, double, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Invoke = %v, want the context's error", err)
	}
	st, err := c.QueueStats(context.Background(), []string{""})
	if err != nil || st[0].Tasks != 1 {
		t.Fatalf("stats %+v, %v: the task must still be waiting", st, err)
	}
}
