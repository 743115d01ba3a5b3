package taskqueue_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/redelay/redelay/internal/broker"
	"github.com/redelay/redelay/taskqueue"
)

// kill buries the due push tasks of queue as a worker does when they run out of retries.
func (e *env) kill(queue, reason string) {
	e.t.Helper()
	for _, l := range e.leasePush(queue) {
		env, err := broker.DecodeEnvelope(l.Envelope)
		if err != nil {
			e.t.Fatal(err)
		}
		env.Reason, env.Attempts, env.LastStatus, env.LastError, env.Died = reason, int32(l.Token), 500, "boom", e.clock.Now().UnixMilli()
		b, err := broker.EncodeEnvelope(env)
		if err != nil {
			e.t.Fatal(err)
		}
		if ok, err := e.broker().Bury(e.ctx, queue, e.clock.Now().UnixMilli(), l.Name, l.Token, b, nil); !ok || err != nil {
			e.t.Fatalf("Bury: %v, %v", ok, err)
		}
	}
}

func TestDeadTasksAndRequeue(t *testing.T) {
	t.Parallel()
	each(t, nil, func(e *env) {
		t := e.t
		e.add(&taskqueue.Task{Name: "first", Payload: []byte("p1"), Header: http.Header{"X-K": {"v"}}, RetryOptions: &taskqueue.RetryOptions{RetryLimit: 1}}, "q")
		e.kill("q", "out of retries")
		e.clock.Advance(time.Second)
		e.add(&taskqueue.Task{Name: "second", Method: "PUT", Path: "/p"}, "q")
		e.kill("q", "permanent failure")

		dead, err := e.c.DeadTasks(e.ctx, "q", 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(dead) != 2 || dead[0].Task.Name != "second" || dead[1].Task.Name != "first" {
			t.Fatalf("DeadTasks = %+v, want second then first", dead)
		}
		d := dead[1]
		if d.Reason != "out of retries" || d.Attempts != 1 || d.LastStatus != 500 || d.LastError != "boom" || !d.Died.Equal(start) {
			t.Errorf("dead task = %+v", d)
		}
		if tk := d.Task; tk.Method != "POST" || tk.Path != "/_ah/queue/q" || string(tk.Payload) != "p1" || tk.Header.Get("X-K") != "v" || tk.RetryOptions.RetryLimit != 1 || !tk.ETA.Equal(start) {
			t.Errorf("dead task's task = %+v", tk)
		}
		if tk := dead[0].Task; tk.Method != "PUT" || tk.Path != "/p" {
			t.Errorf("dead task's task = %+v", tk)
		}
		if page, err := e.c.DeadTasks(e.ctx, "q", 1, 1); err != nil || len(page) != 1 || page[0].Task.Name != "first" {
			t.Errorf("DeadTasks(1, 1) = %v, %v", page, err)
		}
		if st := e.stats("q"); st.Dead != 2 || st.Tasks != 0 {
			t.Fatalf("stats = %+v", st)
		}
		// A dead name stays taken.
		if _, err := e.c.Add(e.ctx, &taskqueue.Task{Name: "first"}, "q"); !errors.Is(err, taskqueue.ErrTaskAlreadyAdded) {
			t.Errorf("Add with a dead task's name: %v", err)
		}

		err = e.c.Requeue(e.ctx, "q", "first", "never", "second")
		var me taskqueue.MultiError
		if !errors.As(err, &me) || len(me) != 3 || me[0] != nil || !errors.Is(me[1], taskqueue.ErrTaskNotFound) || me[2] != nil {
			t.Fatalf("Requeue: %v, want ErrTaskNotFound at index 1 only", err)
		}
		if st := e.stats("q"); st.Dead != 0 || st.Tasks != 2 || !st.OldestETA.Equal(e.clock.Now()) {
			t.Fatalf("stats after requeue = %+v, want 2 tasks due now", st)
		}
		leased := e.leasePush("q")
		if len(leased) != 2 {
			t.Fatalf("leased %q", leasedNames(leased))
		}
		for _, l := range leased {
			env, err := broker.DecodeEnvelope(l.Envelope)
			if err != nil {
				t.Fatal(err)
			}
			if l.Token != 1 || env.Reason != "" || env.Attempts != 0 || env.LastError != "" {
				t.Errorf("requeued %s kept its history: token %d, %+v", l.Name, l.Token, env)
			}
		}
	})
}

func TestDeadTasksBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.add(&taskqueue.Task{Name: "a"}, "q")
	e.kill("q", "x")
	var ve *taskqueue.ValidationError
	for _, err := range []error{
		func() error { _, err := e.c.DeadTasks(e.ctx, "q", 0, 0); return err }(),
		func() error { _, err := e.c.DeadTasks(e.ctx, "q", -1, 1); return err }(),
		func() error { _, err := e.c.DeadTasks(e.ctx, "bad queue", 0, 1); return err }(),
		e.c.Requeue(e.ctx, "q", "a", "bad name"),
		e.c.Requeue(e.ctx, "bad queue", "a"),
	} {
		if !errors.As(err, &ve) {
			t.Errorf("error %v, want a ValidationError", err)
		}
	}
	if st := e.stats("q"); st.Dead != 1 {
		t.Fatalf("dead = %d: a bad Requeue changed something", st.Dead)
	}
	if err := e.c.Requeue(e.ctx, "q"); err != nil {
		t.Errorf("Requeue of nothing: %v", err)
	}
}
