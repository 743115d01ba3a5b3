package taskqueue_test

import (
	"errors"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redelay/redelay/internal/broker"
	"github.com/redelay/redelay/taskqueue"
)

func TestAddReturnsFilledInCopy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	in := &taskqueue.Task{Payload: []byte("hi"), Header: http.Header{"X-A": {"1"}}, Delay: 1500 * time.Millisecond}
	keep := *in
	out := e.add(in, "q")
	if !reflect.DeepEqual(*in, keep) {
		t.Errorf("Add changed its input: %+v, was %+v", *in, keep)
	}
	if out == in {
		t.Fatal("Add returned its input, not a copy")
	}
	if out.Method != "POST" || out.Path != "/_ah/queue/q" || out.Name == "" || out.Delay != 0 {
		t.Errorf("Add returned %+v; want Method POST, Path /_ah/queue/q, a Name, Delay folded into ETA", out)
	}
	if want := start.Add(1500 * time.Millisecond); !out.ETA.Equal(want) {
		t.Errorf("ETA = %v, want now + Delay = %v", out.ETA, want)
	}
	if string(out.Payload) != "hi" || out.Header.Get("X-A") != "1" {
		t.Errorf("payload or header lost: %+v", out)
	}
	// What is stored is what was returned.
	e.clock.Advance(1500 * time.Millisecond)
	leased := e.leasePush("q")
	if len(leased) != 1 || leased[0].Name != out.Name {
		t.Fatalf("leased %q, want %q", leasedNames(leased), out.Name)
	}
	env, err := broker.DecodeEnvelope(leased[0].Envelope)
	if err != nil {
		t.Fatal(err)
	}
	if string(env.Payload) != "hi" || env.Header["X-A"][0] != "1" || env.Named || env.ETA != out.ETA.UnixMilli() {
		t.Errorf("stored %+v", env)
	}
}

func TestAddDefaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	out := e.add(&taskqueue.Task{}, "")
	if out.Path != "/_ah/queue/default" || out.Method != "POST" || !out.ETA.Equal(start) {
		t.Errorf("Add to \"\" returned %+v; want the default queue, POST, due now", out)
	}
	if st := e.stats("default"); st.Tasks != 1 {
		t.Errorf("default queue holds %d tasks, want 1", st.Tasks)
	}
	// Explicit Path and Method are kept.
	out = e.add(&taskqueue.Task{Path: "/x", Method: "PUT"}, "q")
	if out.Path != "/x" || out.Method != "PUT" {
		t.Errorf("Add returned %+v", out)
	}
	for _, m := range []string{"GET", "POST", "HEAD", "PUT", "DELETE", "PULL"} {
		if _, err := e.c.Add(e.ctx, &taskqueue.Task{Method: m}, "methods"); err != nil {
			t.Errorf("method %s: %v", m, err)
		}
	}
}

func TestAddBadInputWritesNothing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		task  *taskqueue.Task
		queue string
		cfg   *taskqueue.Config
		err   string // the error text, or a part of it after "~"
	}{
		{name: "PATCH", task: &taskqueue.Task{Method: "PATCH"}, err: `taskqueue: bad method "PATCH"`},
		{name: "lower-case post", task: &taskqueue.Task{Method: "post"}, err: `taskqueue: bad method "post"`},
		{name: "lower-case pull", task: &taskqueue.Task{Method: "pull"}, err: `taskqueue: bad method "pull"`},
		{name: "Delay and ETA", task: &taskqueue.Task{Delay: time.Second, ETA: start.Add(time.Hour)}, err: "~Delay and ETA"},
		{name: "negative Delay", task: &taskqueue.Task{Delay: -time.Second}, err: "~negative delay"},
		{name: "payload over the default limit", task: &taskqueue.Task{Payload: make([]byte, 1<<20+1)}, err: "~over the limit"},
		{name: "payload over a configured limit", task: &taskqueue.Task{Payload: make([]byte, 11)}, cfg: &taskqueue.Config{MaxPayloadBytes: 10}, err: "~11 bytes is over the limit of 10"},
		{name: "tag on a push task", task: &taskqueue.Task{Tag: "t"}, err: "~Tag"},
		{name: "tag too long", task: &taskqueue.Task{Method: "PULL", Tag: strings.Repeat("t", 501)}, err: "~Tag"},
		{name: "task name with a space", task: &taskqueue.Task{Name: "a b"}, err: "~invalid Name"},
		{name: "task name with a dot", task: &taskqueue.Task{Name: "a.b"}, err: "~invalid Name"},
		{name: "task name with a slash", task: &taskqueue.Task{Name: "a/b"}, err: "~invalid Name"},
		{name: "task name not ASCII", task: &taskqueue.Task{Name: "tâche"}, err: "~invalid Name"},
		{name: "task name of 501", task: &taskqueue.Task{Name: strings.Repeat("n", 501)}, err: "~invalid Name"},
		{name: "queue with an underscore", task: &taskqueue.Task{}, queue: "a_b", err: "~invalid queue"},
		{name: "queue with a space", task: &taskqueue.Task{}, queue: "a b", err: "~invalid queue"},
		{name: "queue with a brace", task: &taskqueue.Task{}, queue: "a}b", err: "~invalid queue"},
		{name: "queue of 101", task: &taskqueue.Task{}, queue: strings.Repeat("q", 101), err: "~invalid queue"},
		{name: "nil task", task: nil, err: "~nil task"},
		{name: "negative RetryLimit", task: &taskqueue.Task{RetryOptions: &taskqueue.RetryOptions{RetryLimit: -1}}, err: "~RetryLimit"},
		{name: "negative AgeLimit", task: &taskqueue.Task{RetryOptions: &taskqueue.RetryOptions{AgeLimit: -time.Second}}, err: "~AgeLimit"},
		{name: "negative MinBackoff", task: &taskqueue.Task{RetryOptions: &taskqueue.RetryOptions{MinBackoff: -time.Second}}, err: "~MinBackoff"},
		{name: "negative MaxBackoff", task: &taskqueue.Task{RetryOptions: &taskqueue.RetryOptions{MaxBackoff: -time.Second}}, err: "~MaxBackoff"},
		{name: "negative MaxDoublings", task: &taskqueue.Task{RetryOptions: &taskqueue.RetryOptions{MaxDoublings: -1}}, err: "~MaxDoublings"},
		{name: "MinBackoff over MaxBackoff", task: &taskqueue.Task{RetryOptions: &taskqueue.RetryOptions{MinBackoff: time.Minute, MaxBackoff: time.Second}}, err: "~MinBackoff"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tc.cfg)
			queue := tc.queue
			if queue == "" {
				queue = "q"
			}
			out, err := e.c.Add(e.ctx, tc.task, queue)
			if err == nil || out != nil {
				t.Fatalf("Add = %+v, %v; want an error", out, err)
			}
			if want, ok := strings.CutPrefix(tc.err, "~"); ok {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			} else if err.Error() != tc.err {
				t.Errorf("error %q, want %q", err, tc.err)
			}
			if errors.Is(err, taskqueue.ErrTaskAlreadyAdded) {
				t.Errorf("error %v is ErrTaskAlreadyAdded", err)
			}
			// The same bad task in a batch with good ones: nothing is written either.
			if _, err := e.c.AddMulti(e.ctx, []*taskqueue.Task{{}, tc.task}, queue); err == nil {
				t.Error("AddMulti accepted it")
			}
			e.wantNothingWritten()
		})
	}
}

func TestAddValidationErrorType(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, err := e.c.Add(e.ctx, &taskqueue.Task{Name: "a b"}, "q")
	var ve *taskqueue.ValidationError
	if !errors.As(err, &ve) || ve.Field != "Name" {
		t.Fatalf("error %v is not a *ValidationError about Name", err)
	}
	_, err = e.c.Add(e.ctx, &taskqueue.Task{}, "a b")
	if !errors.As(err, &ve) || ve.Field != "queue" {
		t.Fatalf("error %v is not a *ValidationError about the queue", err)
	}
	e.wantNothingWritten()
}

func TestAddLongestNames(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	name := strings.Repeat("a", 250) + strings.Repeat("_-Z9", 62) + "xy"
	queue := strings.Repeat("Q-9", 33) + "q"
	if len(name) != 500 || len(queue) != 100 {
		t.Fatalf("bad test: %d, %d", len(name), len(queue))
	}
	if out := e.add(&taskqueue.Task{Name: name}, queue); out.Name != name {
		t.Fatalf("Name = %q", out.Name)
	}
	if st := e.stats(queue); st.Tasks != 1 {
		t.Errorf("tasks = %d", st.Tasks)
	}
}

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,500}$`)

func TestGeneratedNames(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	var names []string
	for i := range 50 {
		ts := make([]*taskqueue.Task, 20)
		for j := range ts {
			ts[j] = &taskqueue.Task{}
		}
		out, err := e.c.AddMulti(e.ctx, ts, "q")
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out {
			names = append(names, o.Name)
		}
		if i%10 == 0 {
			e.clock.Advance(time.Millisecond)
		}
	}
	seen := map[string]bool{}
	for _, n := range names {
		if !nameRE.MatchString(n) {
			t.Fatalf("generated name %q is not a valid task name", n)
		}
		if seen[n] {
			t.Fatalf("name %q generated twice", n)
		}
		seen[n] = true
	}
	if !sort.StringsAreSorted(names) {
		t.Error("generated names do not sort in the order they were made")
	}
	// Time-sortable: a name made an hour later sorts after, whatever the random part.
	later := e.add(&taskqueue.Task{}, "q")
	e.clock.Advance(time.Hour)
	if last := e.add(&taskqueue.Task{}, "q"); last.Name <= later.Name {
		t.Errorf("name made an hour later %q sorts before %q", last.Name, later.Name)
	}
	if st := e.stats("q"); st.Tasks != len(names)+2 {
		t.Errorf("tasks = %d, want %d", st.Tasks, len(names)+2)
	}
}

func TestGeneratedNamesConcurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	const workers, each = 8, 50
	names := make(chan string, workers*each)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				out, err := e.c.Add(e.ctx, &taskqueue.Task{}, "q")
				if err != nil {
					t.Error(err)
					return
				}
				names <- out.Name
			}
		})
	}
	wg.Wait()
	close(names)
	seen := map[string]bool{}
	for n := range names {
		if seen[n] {
			t.Fatalf("name %q generated twice", n)
		}
		seen[n] = true
	}
	if st := e.stats("q"); st.Tasks != workers*each {
		t.Errorf("tasks = %d, want %d", st.Tasks, workers*each)
	}
}

func TestNamedTaskDedupe(t *testing.T) {
	t.Parallel()
	each(t, &taskqueue.Config{TombstoneTTL: time.Minute}, func(e *env) {
		t := e.t
		first := e.add(&taskqueue.Task{Name: "once", Payload: []byte("1")}, "q")
		_, err := e.c.Add(e.ctx, &taskqueue.Task{Name: "once", Payload: []byte("2")}, "q")
		if !errors.Is(err, taskqueue.ErrTaskAlreadyAdded) {
			t.Fatalf("second Add: %v, want ErrTaskAlreadyAdded", err)
		}
		if err.Error() != "taskqueue: task has already been added" {
			t.Errorf("error text %q", err)
		}
		// The same name in another queue is another task.
		e.add(&taskqueue.Task{Name: "once"}, "other")
		// A pull task shares the names of its queue.
		if _, err := e.c.Add(e.ctx, &taskqueue.Task{Name: "once", Method: "PULL"}, "q"); !errors.Is(err, taskqueue.ErrTaskAlreadyAdded) {
			t.Fatalf("pull task with a push task's name: %v", err)
		}

		// Deleted: the name stays taken for TombstoneTTL.
		if err := e.c.Delete(e.ctx, first, "q"); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Minute - time.Millisecond)
		if _, err := e.c.Add(e.ctx, &taskqueue.Task{Name: "once"}, "q"); !errors.Is(err, taskqueue.ErrTaskAlreadyAdded) {
			t.Fatalf("Add within the tombstone period: %v, want ErrTaskAlreadyAdded", err)
		}
		e.clock.Advance(time.Millisecond)
		e.add(&taskqueue.Task{Name: "once"}, "q")
		if st := e.stats("q"); st.Tasks != 1 {
			t.Fatalf("tasks = %d, want 1", st.Tasks)
		}
	})
}

// TestNamedTaskTombstoneAfterRun checks that what Add stores lets a worker keep the name of
// a finished named task taken, and free a generated one.
func TestNamedTaskTombstoneAfterRun(t *testing.T) {
	t.Parallel()
	each(t, &taskqueue.Config{TombstoneTTL: time.Minute}, func(e *env) {
		t := e.t
		e.add(&taskqueue.Task{Name: "named"}, "q")
		gen := e.add(&taskqueue.Task{}, "q")
		var acks []broker.Ack
		for _, l := range e.leasePush("q") {
			env, err := broker.DecodeEnvelope(l.Envelope)
			if err != nil {
				t.Fatal(err)
			}
			acks = append(acks, broker.Ack{Name: l.Name, Token: l.Token, Tombstone: env.Named})
		}
		if len(acks) != 2 {
			t.Fatalf("leased %d tasks", len(acks))
		}
		if _, err := e.broker().Ack(e.ctx, "q", e.clock.Now().UnixMilli(), time.Minute.Milliseconds(), 0, acks); err != nil {
			t.Fatal(err)
		}
		if _, err := e.c.Add(e.ctx, &taskqueue.Task{Name: "named"}, "q"); !errors.Is(err, taskqueue.ErrTaskAlreadyAdded) {
			t.Fatalf("Add of a finished named task: %v, want ErrTaskAlreadyAdded", err)
		}
		if _, err := e.c.Add(e.ctx, &taskqueue.Task{Name: gen.Name}, "q"); err != nil {
			t.Fatalf("Add with a finished task's generated name: %v", err)
		}
		e.clock.Advance(time.Minute)
		e.add(&taskqueue.Task{Name: "named"}, "q")
	})
}

func TestAddMultiValidationWritesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tasks := []*taskqueue.Task{{Name: "a"}, {}, {Method: "PATCH"}, {Name: "b"}, {Delay: -1}}
	out, err := e.c.AddMulti(e.ctx, tasks, "q")
	var me taskqueue.MultiError
	if !errors.As(err, &me) || out != nil {
		t.Fatalf("AddMulti = %v, %v; want a MultiError", out, err)
	}
	if len(me) != len(tasks) {
		t.Fatalf("MultiError has %d entries, want one per task (%d)", len(me), len(tasks))
	}
	for i, err := range me {
		if bad := i == 2 || i == 4; (err != nil) != bad {
			t.Errorf("MultiError[%d] = %v", i, err)
		}
	}
	if me[2].Error() != `taskqueue: bad method "PATCH"` {
		t.Errorf("MultiError[2] = %q", me[2])
	}
	if !strings.Contains(err.Error(), "(and 1 other error)") {
		t.Errorf("MultiError text %q does not count the other error", err)
	}
	e.wantNothingWritten()
}

func TestAddMultiDuplicates(t *testing.T) {
	t.Parallel()
	each(t, nil, func(e *env) {
		t := e.t
		e.add(&taskqueue.Task{Name: "taken"}, "q")
		tasks := []*taskqueue.Task{{Name: "a"}, {Name: "taken"}, {}, {Name: "a"}, {Name: "b", Method: "PULL"}}
		out, err := e.c.AddMulti(e.ctx, tasks, "q")
		var me taskqueue.MultiError
		if !errors.As(err, &me) {
			t.Fatalf("AddMulti: %v, want a MultiError", err)
		}
		if !errors.Is(err, taskqueue.ErrTaskAlreadyAdded) {
			t.Error("errors.Is(MultiError, ErrTaskAlreadyAdded) = false")
		}
		for i, err := range me {
			if dup := i == 1 || i == 3; dup != errors.Is(err, taskqueue.ErrTaskAlreadyAdded) || (!dup && err != nil) {
				t.Errorf("MultiError[%d] = %v", i, err)
			}
		}
		if len(out) != len(tasks) {
			t.Fatalf("AddMulti returned %d tasks, want %d", len(out), len(tasks))
		}
		for i, o := range out {
			if o == nil || o.Name == "" || o.Method == "" {
				t.Errorf("out[%d] = %+v, want the filled-in copy", i, o)
			}
		}
		if st := e.stats("q"); st.Tasks != 4 { // taken, a, the generated one, b
			t.Errorf("tasks = %d, want 4", st.Tasks)
		}
		if got := leasedNames(e.leasePush("q")); len(got) != 3 {
			t.Errorf("push tasks %q, want taken, a and the generated one", got)
		}
	})
}

func TestAddMultiOneScript(t *testing.T) {
	t.Parallel()
	e, rt := counted(t)
	if _, err := e.c.AddMulti(e.ctx, []*taskqueue.Task{{}}, "q"); err != nil { // loads the script
		t.Fatal(err)
	}
	tasks := make([]*taskqueue.Task, 100)
	for i := range tasks {
		tasks[i] = &taskqueue.Task{Payload: []byte{byte(i)}}
	}
	rt.reset()
	if _, err := e.c.AddMulti(e.ctx, tasks, "q"); err != nil {
		t.Fatal(err)
	}
	if n, names := rt.get(); n != 1 || !slices.Equal(names, []string{"evalsha"}) {
		t.Errorf("AddMulti of 100 tasks made %d round trips: %q; want one script call", n, names)
	}
	if st := e.stats("q"); st.Tasks != 101 {
		t.Errorf("tasks = %d", st.Tasks)
	}
	// Nothing to add: no round trip.
	rt.reset()
	if out, err := e.c.AddMulti(e.ctx, nil, "q"); err != nil || len(out) != 0 {
		t.Errorf("AddMulti(nil) = %v, %v", out, err)
	}
	if n, _ := rt.get(); n != 0 {
		t.Errorf("AddMulti(nil) made %d round trips", n)
	}
}

func TestETAMillisecondResolution(t *testing.T) {
	t.Parallel()
	each(t, nil, func(e *env) {
		t := e.t
		eta := start.Add(1500*time.Millisecond + 700*time.Microsecond)
		out := e.add(&taskqueue.Task{ETA: eta}, "q")
		if want := start.Add(1500 * time.Millisecond); !out.ETA.Equal(want) {
			t.Errorf("ETA = %v, want it to the millisecond: %v", out.ETA, want)
		}
		e.add(&taskqueue.Task{Method: "PULL", Delay: 1500 * time.Millisecond}, "q")
		e.clock.Advance(1499 * time.Millisecond)
		if got := e.leasePush("q"); len(got) != 0 {
			t.Fatalf("push task leased 1 ms before its ETA")
		}
		if got := e.lease(10, "q", 60); len(got) != 0 {
			t.Fatalf("pull task leased 1 ms before its ETA")
		}
		if st := e.stats("q"); !st.OldestETA.Equal(start.Add(1500 * time.Millisecond)) {
			t.Errorf("OldestETA = %v", st.OldestETA)
		}
		e.clock.Advance(time.Millisecond)
		if got := e.leasePush("q"); len(got) != 1 {
			t.Fatalf("push task not leased at its ETA")
		}
		if got := e.lease(10, "q", 60); len(got) != 1 {
			t.Fatalf("pull task not leased at its ETA")
		}
	})
}

func TestAddPastETA(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.add(&taskqueue.Task{ETA: start.Add(-time.Hour)}, "q")
	if got := e.leasePush("q"); len(got) != 1 {
		t.Fatalf("a task with a past ETA is not due: %v", got)
	}
}

func TestAddPayloadByMethod(t *testing.T) {
	t.Parallel()
	e := newEnv(t, &taskqueue.Config{MaxPayloadBytes: 10})
	e.add(&taskqueue.Task{Payload: make([]byte, 10)}, "q") // at the limit
	// GET, HEAD and DELETE carry no body: nothing is stored.
	out := e.add(&taskqueue.Task{Method: "GET", Payload: []byte("x")}, "q")
	if out.Payload != nil {
		t.Errorf("GET task returned with payload %q", out.Payload)
	}
}

func TestNewPOSTTask(t *testing.T) {
	t.Parallel()
	task := taskqueue.NewPOSTTask("/worker", map[string][]string{"a": {"1", "x y"}, "b": {"2"}})
	if task.Path != "/worker" || task.Method != "POST" || string(task.Payload) != "a=1&a=x+y&b=2" {
		t.Errorf("NewPOSTTask = %+v", task)
	}
	if ct := task.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %q", ct)
	}
	e := newEnv(t, nil)
	out := e.add(task, "q")
	if out.Path != "/worker" || string(out.Payload) != "a=1&a=x+y&b=2" {
		t.Errorf("Add returned %+v", out)
	}
}
