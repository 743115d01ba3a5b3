package taskqueue_test

import (
	"context"
	"errors"
	"testing"

	"github.com/redelay/redelay/taskqueue"
)

// TestPackageFunctions checks that the package-level functions use the client of the
// context, else the default one. It is the only test that sets the default client.
func TestPackageFunctions(t *testing.T) {
	t.Parallel()
	inCtx, byDefault := newEnv(t, nil), newEnv(t, nil)
	taskqueue.SetDefaultClient(byDefault.c)
	t.Cleanup(func() { taskqueue.SetDefaultClient(nil) })
	ctx := taskqueue.WithClient(context.Background(), inCtx.c)

	if c, err := taskqueue.FromContext(ctx); err != nil || c != inCtx.c {
		t.Fatalf("FromContext(WithClient) = %p, %v; want the context's client", c, err)
	}
	if c, err := taskqueue.FromContext(context.Background()); err != nil || c != byDefault.c {
		t.Fatalf("FromContext = %p, %v; want the default client", c, err)
	}

	// Each function on the context's client.
	if _, err := taskqueue.Add(ctx, &taskqueue.Task{Name: "a"}, "q"); err != nil {
		t.Fatal(err)
	}
	if _, err := taskqueue.AddMulti(ctx, []*taskqueue.Task{{Name: "b"}, {Name: "p", Method: "PULL", Tag: "t"}, {Name: "p2", Method: "PULL"}}, "q"); err != nil {
		t.Fatal(err)
	}
	if st, err := taskqueue.QueueStats(ctx, []string{"q"}); err != nil || st[0].Tasks != 4 {
		t.Fatalf("QueueStats = %v, %v", st, err)
	}
	leased, err := taskqueue.LeaseByTag(ctx, 10, "q", 60, "t")
	if err != nil || len(leased) != 1 {
		t.Fatalf("LeaseByTag = %v, %v", leased, err)
	}
	if err := taskqueue.ModifyLease(ctx, leased[0], "q", 0); err != nil {
		t.Fatal(err)
	}
	if leased, err = taskqueue.Lease(ctx, 10, "q", 60); err != nil || len(leased) != 2 {
		t.Fatalf("Lease = %v, %v", leased, err)
	}
	if err := taskqueue.Delete(ctx, &taskqueue.Task{Name: "a"}, "q"); err != nil {
		t.Fatal(err)
	}
	if err := taskqueue.DeleteMulti(ctx, []*taskqueue.Task{{Name: "b"}, {Name: "gone"}}, "q"); !errors.Is(err, taskqueue.ErrTaskNotFound) {
		t.Fatalf("DeleteMulti: %v", err)
	}
	if st := inCtx.stats("q"); st.Tasks != 2 {
		t.Fatalf("context's client: %d tasks, want 2", st.Tasks)
	}
	if err := taskqueue.Purge(ctx, "q"); err != nil {
		t.Fatal(err)
	}
	if st := inCtx.stats("q"); st.Tasks != 0 {
		t.Fatalf("after Purge: %d tasks", st.Tasks)
	}
	byDefault.wantNothingWritten()

	// Without a client in the context: the default one.
	if _, err := taskqueue.Add(context.Background(), &taskqueue.Task{}, "q"); err != nil {
		t.Fatal(err)
	}
	if st := byDefault.stats("q"); st.Tasks != 1 {
		t.Fatalf("default client: %d tasks, want 1", st.Tasks)
	}
	if st := inCtx.stats("q"); st.Tasks != 0 {
		t.Fatalf("context's client got the task meant for the default one")
	}
}

func TestMultiErrorText(t *testing.T) {
	t.Parallel()
	a, b := errors.New("a"), errors.New("b")
	for _, tc := range []struct {
		me   taskqueue.MultiError
		want string
	}{
		{taskqueue.MultiError{nil, nil}, "(0 errors)"},
		{taskqueue.MultiError{nil, a}, "a"},
		{taskqueue.MultiError{a, nil, b}, "a (and 1 other error)"},
		{taskqueue.MultiError{b, a, a}, "b (and 2 other errors)"},
	} {
		if got := tc.me.Error(); got != tc.want {
			t.Errorf("%#v.Error() = %q, want %q", tc.me, got, tc.want)
		}
	}
	if !errors.Is(taskqueue.MultiError{nil, taskqueue.ErrTaskNotFound}, taskqueue.ErrTaskNotFound) {
		t.Error("errors.Is does not look inside a MultiError")
	}
	if errors.Is(taskqueue.MultiError{nil, a}, taskqueue.ErrTaskNotFound) {
		t.Error("errors.Is finds what is not there")
	}
}
