package taskqueue_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redelay/redelay/taskqueue"
)

func TestLease(t *testing.T) {
	t.Parallel()
	each(t, nil, func(e *env) {
		t := e.t
		retry := &taskqueue.RetryOptions{RetryLimit: 5, MinBackoff: time.Second}
		e.add(&taskqueue.Task{Name: "a", Method: "PULL", Payload: []byte("pa"), Tag: "red", RetryOptions: retry}, "pq")
		e.add(&taskqueue.Task{Name: "b", Method: "PULL", Payload: []byte("pb")}, "pq")
		e.add(&taskqueue.Task{Name: "c", Method: "PULL", Delay: time.Minute}, "pq")
		e.add(&taskqueue.Task{Name: "push"}, "pq")

		got := e.lease(10, "pq", 30)
		if names := taskNames(got); !slices.Equal(names, []string{"a", "b"}) {
			t.Fatalf("leased %q, want the due pull tasks a and b", names)
		}
		a := *got[0]
		if !a.ETA.Equal(start.Add(30 * time.Second)) {
			t.Errorf("ETA = %v, want the lease expiry", a.ETA)
		}
		a.ETA = time.Time{}
		want := taskqueue.Task{Name: "a", Method: "PULL", Payload: []byte("pa"), Tag: "red", RetryCount: 1, RetryOptions: retry}
		if !reflect.DeepEqual(a, want) {
			t.Errorf("leased\n %+v\nwant\n %+v", a, want)
		}

		// Leased tasks are invisible until the lease ends.
		e.clock.Advance(30*time.Second - time.Millisecond)
		if got := e.lease(10, "pq", 30); len(got) != 0 {
			t.Fatalf("leased %q while their lease runs", taskNames(got))
		}
		if st := e.stats("pq"); st.Tasks != 4 {
			t.Errorf("tasks = %d; leased tasks still count", st.Tasks)
		}
		e.clock.Advance(time.Millisecond)
		got = e.lease(1, "pq", 30)
		if len(got) != 1 || got[0].Name != "a" || got[0].RetryCount != 2 {
			t.Fatalf("after the lease: %+v, want a leased a second time", got)
		}
		// maxTasks is a limit.
		if got := e.lease(1, "pq", 30); len(got) != 1 || got[0].Name != "b" {
			t.Fatalf("second lease of 1: %q, want b", taskNames(got))
		}
	})
}

func TestLeaseBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.add(&taskqueue.Task{Name: "a", Method: "PULL"}, "pq")
	for _, tc := range []struct {
		max, leaseTime int
		queue, field   string
	}{
		{0, 60, "pq", "maxTasks"},
		{-1, 60, "pq", "maxTasks"},
		{taskqueue.MaxLeaseTasks + 1, 60, "pq", "maxTasks"},
		{1, 0, "pq", "leaseTime"},
		{1, -5, "pq", "leaseTime"},
		{1, taskqueue.MaxLeaseTime + 1, "pq", "leaseTime"},
		{1, 60, "p q", "queue"},
	} {
		for _, byTag := range []bool{false, true} {
			var err error
			if byTag {
				_, err = e.c.LeaseByTag(e.ctx, tc.max, tc.queue, tc.leaseTime, "")
			} else {
				_, err = e.c.Lease(e.ctx, tc.max, tc.queue, tc.leaseTime)
			}
			var ve *taskqueue.ValidationError
			if !errors.As(err, &ve) || ve.Field != tc.field {
				t.Errorf("Lease(%d, %q, %d) error %v, want a ValidationError about %s", tc.max, tc.queue, tc.leaseTime, err, tc.field)
			}
		}
	}
	// The limits themselves are fine, and nothing was leased before.
	got := e.lease(taskqueue.MaxLeaseTasks, "pq", taskqueue.MaxLeaseTime)
	if len(got) != 1 || got[0].RetryCount != 1 {
		t.Fatalf("lease after bad calls: %+v, want a leased for the first time", got)
	}
	if !got[0].ETA.Equal(start.Add(7 * 24 * time.Hour)) {
		t.Errorf("ETA = %v, want a week later", got[0].ETA)
	}
}

func TestModifyLease(t *testing.T) {
	t.Parallel()
	each(t, nil, func(e *env) {
		t := e.t
		e.add(&taskqueue.Task{Name: "a", Method: "PULL"}, "pq")
		a := e.lease(1, "pq", 60)[0]
		stale := *a

		e.clock.Advance(10 * time.Second)
		if err := e.c.ModifyLease(e.ctx, a, "pq", 120); err != nil {
			t.Fatal(err)
		}
		if want := start.Add(130 * time.Second); !a.ETA.Equal(want) {
			t.Errorf("ETA after ModifyLease = %v, want %v", a.ETA, want)
		}
		// The copy from before carries the old lease.
		if err := e.c.ModifyLease(e.ctx, &stale, "pq", 120); !errors.Is(err, taskqueue.ErrLeaseExpired) {
			t.Errorf("ModifyLease with a stale ETA: %v, want ErrLeaseExpired", err)
		}
		// Extended: not leasable at the old expiry.
		e.clock.Advance(50 * time.Second)
		if got := e.lease(1, "pq", 60); len(got) != 0 {
			t.Fatal("task leased again at the old expiry")
		}
		// Expired: the lease ran out.
		e.clock.Advance(70 * time.Second)
		if err := e.c.ModifyLease(e.ctx, a, "pq", 60); !errors.Is(err, taskqueue.ErrLeaseExpired) {
			t.Errorf("ModifyLease of an expired lease: %v, want ErrLeaseExpired", err)
		}
		// Released with 0: leasable at once.
		a = e.lease(1, "pq", 60)[0]
		if err := e.c.ModifyLease(e.ctx, a, "pq", 0); err != nil {
			t.Fatal(err)
		}
		if got := e.lease(1, "pq", 60); len(got) != 1 || got[0].RetryCount != 3 {
			t.Fatalf("after ModifyLease 0: %+v, want the task leased a third time", got)
		}
		// The task Add returned carries its due time, not a lease.
		later := e.add(&taskqueue.Task{Name: "later", Method: "PULL", Delay: time.Hour}, "pq")
		if err := e.c.ModifyLease(e.ctx, later, "pq", 60); !errors.Is(err, taskqueue.ErrLeaseExpired) {
			t.Errorf("ModifyLease of a task never leased: %v, want ErrLeaseExpired", err)
		}
		if st := e.stats("pq"); !st.OldestETA.Equal(e.clock.Now().Add(60 * time.Second)) {
			// a is leased for 60 s from now; "later" keeps its ETA an hour away.
			t.Errorf("OldestETA = %v", st.OldestETA)
		}
		// Unknown tasks, and push tasks, are not found.
		e.add(&taskqueue.Task{Name: "push"}, "pq")
		for _, name := range []string{"nope", "push"} {
			if err := e.c.ModifyLease(e.ctx, &taskqueue.Task{Name: name, ETA: e.clock.Now()}, "pq", 60); !errors.Is(err, taskqueue.ErrTaskNotFound) {
				t.Errorf("ModifyLease of %q: %v, want ErrTaskNotFound", name, err)
			}
		}
	})
}

func TestModifyLeaseBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.add(&taskqueue.Task{Name: "a", Method: "PULL"}, "pq")
	a := e.lease(1, "pq", 60)[0]
	for _, tc := range []struct {
		task      *taskqueue.Task
		queue     string
		leaseTime int
	}{
		{a, "pq", -1},
		{a, "pq", taskqueue.MaxLeaseTime + 1},
		{a, "p q", 60},
		{nil, "pq", 60},
		{&taskqueue.Task{Name: "a b", ETA: a.ETA}, "pq", 60},
	} {
		var ve *taskqueue.ValidationError
		if err := e.c.ModifyLease(e.ctx, tc.task, tc.queue, tc.leaseTime); !errors.As(err, &ve) {
			t.Errorf("ModifyLease(%v, %q, %d): %v, want a ValidationError", tc.task, tc.queue, tc.leaseTime, err)
		}
	}
	// The lease is unchanged: still held, and modifiable.
	if err := e.c.ModifyLease(e.ctx, a, "pq", 60); err != nil {
		t.Fatalf("ModifyLease after bad calls: %v", err)
	}
}

func TestLeaseByTag(t *testing.T) {
	t.Parallel()
	each(t, nil, func(e *env) {
		t := e.t
		for i, tc := range []struct{ name, tag string }{
			{"u1", ""}, {"r1", "red"}, {"b1", "blue"}, {"r2", "red"}, {"u2", ""}, {"b2", "blue"},
		} {
			e.add(&taskqueue.Task{Name: tc.name, Tag: tc.tag, Method: "PULL", ETA: start.Add(time.Duration(i-10) * time.Millisecond)}, "pq")
		}
		got, err := e.c.LeaseByTag(e.ctx, 10, "pq", 60, "blue")
		if err != nil {
			t.Fatal(err)
		}
		if names := taskNames(got); !slices.Equal(names, []string{"b1", "b2"}) {
			t.Fatalf("LeaseByTag blue: %q", names)
		}
		for _, g := range got {
			if g.Tag != "blue" {
				t.Errorf("%s tag = %q", g.Name, g.Tag)
			}
		}
		// "" groups by the earliest due task's tag: u1 is untagged.
		got, err = e.c.LeaseByTag(e.ctx, 10, "pq", 60, "")
		if err != nil {
			t.Fatal(err)
		}
		if names := taskNames(got); !slices.Equal(names, []string{"u1", "u2"}) {
			t.Fatalf("LeaseByTag \"\" with an untagged earliest task: %q", names)
		}
		// Now r1 is the earliest.
		got, err = e.c.LeaseByTag(e.ctx, 1, "pq", 60, "")
		if err != nil {
			t.Fatal(err)
		}
		if names := taskNames(got); !slices.Equal(names, []string{"r1"}) {
			t.Fatalf("LeaseByTag \"\" limit 1: %q", names)
		}
		got, err = e.c.LeaseByTag(e.ctx, 10, "pq", 60, "")
		if err != nil {
			t.Fatal(err)
		}
		if names := taskNames(got); !slices.Equal(names, []string{"r2"}) {
			t.Fatalf("LeaseByTag \"\": %q", names)
		}
		if got, err := e.c.LeaseByTag(e.ctx, 10, "pq", 60, ""); err != nil || len(got) != 0 {
			t.Fatalf("LeaseByTag on a queue with nothing due: %v, %v", got, err)
		}
	})
}

func TestPullRetryLimitCountsLeases(t *testing.T) {
	t.Parallel()
	each(t, nil, func(e *env) {
		t := e.t
		e.add(&taskqueue.Task{Name: "p", Method: "PULL", Payload: []byte("x"), Tag: "t", RetryOptions: &taskqueue.RetryOptions{RetryLimit: 2}}, "pq")
		e.add(&taskqueue.Task{Name: "q", Method: "PULL"}, "pq")
		for lease := 1; lease <= 2; lease++ {
			got, err := e.c.LeaseByTag(e.ctx, 10, "pq", 60, "t")
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].RetryCount != int32(lease) {
				t.Fatalf("lease %d: %+v", lease, got)
			}
			e.clock.Advance(time.Minute)
		}
		// Past its limit: not handed out, dead.
		if got := e.lease(10, "pq", 60); len(got) != 1 || got[0].Name != "q" {
			t.Fatalf("third lease: %q, want only q", taskNames(got))
		}
		st := e.stats("pq")
		if st.Dead != 1 || st.Tasks != 1 {
			t.Fatalf("stats = %+v, want 1 task and 1 dead", st)
		}
		dead, err := e.c.DeadTasks(e.ctx, "pq", 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(dead) != 1 {
			t.Fatalf("DeadTasks = %v", dead)
		}
		d := dead[0]
		if d.Task.Name != "p" || d.Task.Method != "PULL" || d.Task.Tag != "t" || string(d.Task.Payload) != "x" || d.Task.RetryOptions.RetryLimit != 2 {
			t.Errorf("dead task = %+v", d.Task)
		}
		if !strings.Contains(d.Reason, "retry limit") || d.Attempts != 2 || !d.Died.Equal(e.clock.Now()) {
			t.Errorf("dead = %+v; want the reason, 2 attempts, died now", d)
		}
	})
}
