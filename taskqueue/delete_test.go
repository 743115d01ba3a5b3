package taskqueue_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/redelay/redelay/internal/broker"
	"github.com/redelay/redelay/taskqueue"
)

func TestDelete(t *testing.T) {
	t.Parallel()
	each(t, nil, func(e *env) {
		t := e.t
		waiting := e.add(&taskqueue.Task{Delay: time.Hour}, "q")
		leased := e.add(&taskqueue.Task{Name: "leased", Method: "PULL"}, "q")
		e.lease(1, "q", 60)

		if err := e.c.Delete(e.ctx, waiting, "q"); err != nil {
			t.Fatalf("Delete of a waiting task: %v", err)
		}
		if err := e.c.Delete(e.ctx, leased, "q"); err != nil {
			t.Fatalf("Delete of a leased task: %v", err)
		}
		if err := e.c.Delete(e.ctx, waiting, "q"); !errors.Is(err, taskqueue.ErrTaskNotFound) {
			t.Fatalf("Delete twice: %v, want ErrTaskNotFound", err)
		}
		if err := e.c.Delete(e.ctx, &taskqueue.Task{Name: "never"}, "q"); !errors.Is(err, taskqueue.ErrTaskNotFound) {
			t.Fatalf("Delete of an unknown task: %v, want ErrTaskNotFound", err)
		}
		if err := e.c.Delete(e.ctx, &taskqueue.Task{Name: "leased"}, "other"); !errors.Is(err, taskqueue.ErrTaskNotFound) {
			t.Fatalf("Delete from another queue: %v, want ErrTaskNotFound", err)
		}
		if st := e.stats("q"); st.Tasks != 0 {
			t.Fatalf("tasks = %d after deleting them all", st.Tasks)
		}
		if got := e.lease(10, "q", 60); len(got) != 0 {
			t.Fatalf("deleted task leased: %q", taskNames(got))
		}
		e.clock.Advance(time.Hour)
		if got := e.leasePush("q"); len(got) != 0 {
			t.Fatalf("deleted task due: %q", leasedNames(got))
		}
	})
}

func TestDeleteDeadTask(t *testing.T) {
	t.Parallel()
	each(t, nil, func(e *env) {
		t := e.t
		e.add(&taskqueue.Task{Name: "d", Method: "PULL", RetryOptions: taskqueue.NoRetry()}, "q")
		if got := e.lease(1, "q", 60); len(got) != 0 { // no lease allowed: dead
			t.Fatalf("leased %q", taskNames(got))
		}
		if st := e.stats("q"); st.Dead != 1 {
			t.Fatalf("dead = %d", st.Dead)
		}
		if err := e.c.Delete(e.ctx, &taskqueue.Task{Name: "d"}, "q"); err != nil {
			t.Fatalf("Delete of a dead task: %v", err)
		}
		if st := e.stats("q"); st.Dead != 0 {
			t.Fatalf("dead = %d after Delete", st.Dead)
		}
	})
}

func TestDeleteMulti(t *testing.T) {
	t.Parallel()
	each(t, nil, func(e *env) {
		t := e.t
		a := e.add(&taskqueue.Task{Name: "a"}, "q")
		b := e.add(&taskqueue.Task{Name: "b"}, "q")
		err := e.c.DeleteMulti(e.ctx, []*taskqueue.Task{a, {Name: "missing"}, b}, "q")
		var me taskqueue.MultiError
		if !errors.As(err, &me) || len(me) != 3 {
			t.Fatalf("DeleteMulti: %v, want a MultiError of 3", err)
		}
		if me[0] != nil || !errors.Is(me[1], taskqueue.ErrTaskNotFound) || me[2] != nil {
			t.Fatalf("MultiError = %v, want ErrTaskNotFound at index 1 only", me)
		}
		if st := e.stats("q"); st.Tasks != 0 {
			t.Fatalf("tasks = %d, want a and b deleted", st.Tasks)
		}
		if err := e.c.DeleteMulti(e.ctx, nil, "q"); err != nil {
			t.Fatalf("DeleteMulti(nil): %v", err)
		}
	})
}

func TestDeleteMultiBadInputDeletesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	a := e.add(&taskqueue.Task{Name: "a"}, "q")
	b := e.add(&taskqueue.Task{Name: "b"}, "q")
	err := e.c.DeleteMulti(e.ctx, []*taskqueue.Task{a, {Name: "bad name"}, b, nil}, "q")
	var me taskqueue.MultiError
	if !errors.As(err, &me) || len(me) != 4 {
		t.Fatalf("DeleteMulti: %v, want a MultiError of 4", err)
	}
	var ve *taskqueue.ValidationError
	if me[0] != nil || !errors.As(me[1], &ve) || me[2] != nil || !errors.As(me[3], &ve) {
		t.Fatalf("MultiError = %v, want validation errors at 1 and 3", me)
	}
	if st := e.stats("q"); st.Tasks != 2 {
		t.Fatalf("tasks = %d: a batch with bad input deleted some", st.Tasks)
	}
	for _, bad := range []error{
		e.c.Delete(e.ctx, &taskqueue.Task{Name: "a"}, "bad queue"),
		e.c.Delete(e.ctx, &taskqueue.Task{}, "q"),
		e.c.Delete(e.ctx, nil, "q"),
	} {
		if !errors.As(bad, &ve) {
			t.Errorf("Delete with bad input: %v, want a ValidationError", bad)
		}
	}
	if st := e.stats("q"); st.Tasks != 2 {
		t.Fatalf("tasks = %d", st.Tasks)
	}
}

func TestPurge(t *testing.T) {
	t.Parallel()
	each(t, nil, func(e *env) {
		t := e.t
		e.add(&taskqueue.Task{}, "q")
		e.add(&taskqueue.Task{Delay: time.Hour}, "q")
		e.add(&taskqueue.Task{Name: "pulled", Method: "PULL", Tag: "x"}, "q")
		e.add(&taskqueue.Task{Name: "dead", Method: "PULL", RetryOptions: taskqueue.NoRetry()}, "q")
		e.add(&taskqueue.Task{Name: "other"}, "other")
		e.lease(1, "q", 60)
		e.leasePush("q")
		if st := e.stats("q"); st.Tasks != 3 || st.Dead != 1 || st.InFlight != 1 {
			t.Fatalf("stats before purge = %+v", st)
		}
		if err := e.c.Purge(e.ctx, "q"); err != nil {
			t.Fatal(err)
		}
		if st := e.stats("q"); st != (taskqueue.QueueStatistics{}) {
			t.Fatalf("stats after purge = %+v, want zero", st)
		}
		e.clock.Advance(2 * time.Hour)
		if got := e.leasePush("q"); len(got) != 0 {
			t.Fatalf("purged tasks leased: %q", leasedNames(got))
		}
		if got := e.lease(10, "q", 60); len(got) != 0 {
			t.Fatalf("purged pull tasks leased: %q", taskNames(got))
		}
		if st := e.stats("other"); st.Tasks != 1 {
			t.Errorf("Purge touched another queue: %+v", st)
		}
		if err := e.c.Purge(e.ctx, "q"); err != nil {
			t.Fatalf("Purge of an empty queue: %v", err)
		}
		var ve *taskqueue.ValidationError
		if err := e.c.Purge(e.ctx, "bad queue"); !errors.As(err, &ve) {
			t.Fatalf("Purge of a bad queue name: %v", err)
		}
	})
}

func TestQueueStats(t *testing.T) {
	t.Parallel()
	each(t, nil, func(e *env) {
		t := e.t
		if st := e.stats("q"); st != (taskqueue.QueueStatistics{}) {
			t.Fatalf("stats of an empty queue = %+v", st)
		}
		e.add(&taskqueue.Task{ETA: start.Add(-1500 * time.Millisecond)}, "q")
		e.add(&taskqueue.Task{Delay: time.Hour}, "q")
		e.add(&taskqueue.Task{Method: "PULL", ETA: start.Add(-2 * time.Second)}, "q")
		e.add(&taskqueue.Task{}, "")
		st := e.stats("q")
		want := taskqueue.QueueStatistics{Tasks: 3, OldestETA: start.Add(-2 * time.Second)}
		if st != want && !(st.Tasks == want.Tasks && st.OldestETA.Equal(want.OldestETA) && st.InFlight == 0) {
			t.Fatalf("stats = %+v, want %+v", st, want)
		}
		// A worker runs the due push task and acks it.
		leased := e.leasePush("q")
		if len(leased) != 1 {
			t.Fatalf("leased %d", len(leased))
		}
		if st := e.stats("q"); st.InFlight != 1 || st.Tasks != 3 {
			t.Fatalf("stats while running = %+v", st)
		}
		if _, err := e.broker().Ack(e.ctx, "q", e.clock.Now().UnixMilli(), 0, 0, []broker.Ack{{Name: leased[0].Name, Token: leased[0].Token}}); err != nil {
			t.Fatal(err)
		}
		st = e.stats("q")
		if st.InFlight != 0 || st.Tasks != 2 || st.Executed1Minute != 1 || st.EnforcedRate != 0 {
			t.Fatalf("stats after the ack = %+v", st)
		}
		e.clock.Advance(61 * time.Second)
		if st := e.stats("q"); st.Executed1Minute != 0 {
			t.Errorf("executed a minute later = %d", st.Executed1Minute)
		}
		// Several queues, in order; "" is "default".
		all, err := e.c.QueueStats(e.ctx, []string{"default", "q", "", "empty"})
		if err != nil {
			t.Fatal(err)
		}
		var tasks []int
		for _, s := range all {
			tasks = append(tasks, s.Tasks)
		}
		if !slices.Equal(tasks, []int{1, 2, 1, 0}) {
			t.Errorf("tasks per queue = %v", tasks)
		}
		if all, err := e.c.QueueStats(e.ctx, nil); err != nil || len(all) != 0 {
			t.Errorf("QueueStats(nil) = %v, %v", all, err)
		}
		var ve *taskqueue.ValidationError
		if _, err := e.c.QueueStats(e.ctx, []string{"q", "bad queue"}); !errors.As(err, &ve) {
			t.Errorf("QueueStats with a bad name: %v", err)
		}
	})
}

func TestQueueStatsOneRoundTrip(t *testing.T) {
	t.Parallel()
	e, rt := counted(t)
	e.add(&taskqueue.Task{}, "a")
	e.stats("a") // loads the script
	rt.reset()
	st, err := e.c.QueueStats(e.ctx, []string{"a", "b", "c", "d"})
	if err != nil || len(st) != 4 || st[0].Tasks != 1 {
		t.Fatalf("QueueStats = %v, %v", st, err)
	}
	if n, names := rt.get(); n != 1 {
		t.Errorf("QueueStats of 4 queues made %d round trips (%q), want 1", n, names)
	}
}
