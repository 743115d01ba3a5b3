package delay_test

// End-to-end tests: delay's tasks go through a real enqueue -> lease -> deliver cycle on
// miniredis, run by a worker that delivers in-process to delay's handler.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redelay/redelay/delay"
	"github.com/redelay/redelay/taskqueue"
	"github.com/redelay/redelay/worker"
)

// delivered is what the worker's delivery of one task looked like, once it was answered.
type delivered struct {
	method, path string
	headers      *taskqueue.RequestHeaders
	status       int
	permanent    bool
	body         string
}

// e2e is one test's world: a client, a worker running delay's handler, and the channels
// to watch.
type e2e struct {
	ctx       context.Context
	c         *taskqueue.Client
	sink      *sink
	delivered chan delivered
	stop      func()
}

// quickRetry retries a failed attempt after a millisecond, up to limit times.
func quickRetry(limit int32) *taskqueue.RetryOptions {
	return &taskqueue.RetryOptions{RetryLimit: limit, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}
}

// startE2E starts a worker for the queues default and other that delivers to delay's
// handler; stop (also run when the test ends) waits until the worker has stopped and
// recorded every outcome.
func startE2E(t *testing.T) *e2e {
	t.Helper()
	ctx, c := setup(t)
	e := &e2e{ctx: ctx, c: c, sink: newSink(), delivered: make(chan delivered, 64)}
	inner := withSink(delay.NewHandler(delay.HandlerConfig{Logger: quietLogger()}), e.sink)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		inner.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		e.delivered <- delivered{
			method:    r.Method,
			path:      r.URL.Path,
			headers:   taskqueue.ParseRequestHeaders(r.Header),
			status:    rec.Code,
			permanent: rec.Header().Get(taskqueue.HeaderFailure) == taskqueue.FailurePermanent,
			body:      rec.Body.String(),
		}
	})
	w, err := worker.New(worker.Config{
		Client:      c,
		Handler:     h,
		Queues:      map[string]int{"default": 1, "other": 1},
		Concurrency: 4,
		Logger:      quietLogger(),
	})
	if err != nil {
		t.Fatalf("worker.New: %v", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(runCtx) }()
	var once sync.Once
	e.stop = func() {
		once.Do(func() {
			cancel()
			if err := recv(t, done); err != nil {
				t.Errorf("worker Run: %v", err)
			}
		})
	}
	t.Cleanup(e.stop)
	return e
}

// add adds task to queue.
func (e *e2e) add(t *testing.T, task *taskqueue.Task, queue string) *taskqueue.Task {
	t.Helper()
	added, err := taskqueue.Add(e.ctx, task, queue)
	if err != nil {
		t.Fatalf("Add: %v", err)
	}
	return added
}

// next returns the next answered delivery.
func (e *e2e) next(t *testing.T) delivered {
	t.Helper()
	return recv(t, e.delivered)
}

// stats stops the worker and returns the statistics of queue.
func (e *e2e) stats(t *testing.T, queue string) taskqueue.QueueStatistics {
	t.Helper()
	e.stop()
	st, err := e.c.QueueStats(context.Background(), []string{queue})
	if err != nil {
		t.Fatalf("QueueStats: %v", err)
	}
	return st[0]
}

// wantDone stops the worker and fails the test unless queue is empty and has no dead task.
func (e *e2e) wantDone(t *testing.T, queue string) {
	t.Helper()
	if st := e.stats(t, queue); st.Tasks != 0 || st.Dead != 0 {
		t.Errorf("queue %s holds %d tasks and %d dead ones after the run, want none", queue, st.Tasks, st.Dead)
	}
}

// dead stops the worker and returns the only dead task of queue.
func (e *e2e) dead(t *testing.T, queue string) *taskqueue.DeadTask {
	t.Helper()
	if st := e.stats(t, queue); st.Tasks != 0 || st.Dead != 1 {
		t.Fatalf("queue %s holds %d tasks and %d dead ones, want just 1 dead", queue, st.Tasks, st.Dead)
	}
	dead, err := e.c.DeadTasks(context.Background(), queue, 0, 10)
	if err != nil || len(dead) != 1 {
		t.Fatalf("DeadTasks: %v, %v", dead, err)
	}
	return dead[0]
}

func TestE2ERunningFunction(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	if err := regFunc.Call(e.ctx, "Why, hello!"); err != nil {
		t.Fatalf("Call: %v", err)
	}
	if got := next[string](t, e.sink); got != "Why, hello!" {
		t.Errorf("ran with %q", got)
	}
	d := e.next(t)
	if d.method != http.MethodPost || d.path != delay.Path || d.headers.QueueName != "default" || d.headers.TaskName == "" || d.status != http.StatusOK {
		t.Errorf("delivery %+v, want POST %s in queue default with a task name, answered 200", d, delay.Path)
	}
	e.wantDone(t, "default")
	nothingMore(t, e.sink)
}

func TestE2ECustomType(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	if err := custFunc.Call(e.ctx, &CustomType{N: 11}, CustomImpl(13)); err != nil {
		t.Fatal(err)
	}
	if got := next[int](t, e.sink); got != 24 {
		t.Errorf("tally %d, want 24", got)
	}
	if err := custFunc.Call(e.ctx, (*CustomType)(nil), nil); err != nil {
		t.Fatal(err)
	}
	if got := next[int](t, e.sink); got != 5 {
		t.Errorf("tally %d, want 5", got)
	}
	e.wantDone(t, "default")
}

func TestE2ERunningVariadic(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	if err := varFunc.Call(e.ctx, "Amiga %d has %d KB RAM", 500, 512); err != nil {
		t.Fatal(err)
	}
	if got := next[string](t, e.sink); got != "Amiga 500 has 512 KB RAM" {
		t.Errorf("made %q", got)
	}
	e.wantDone(t, "default")
}

func TestE2EErrorFunctionRetried(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	// The first run succeeds and the task is done.
	if err := errFunc.Call(e.ctx); err != nil {
		t.Fatal(err)
	}
	if got := next[string](t, e.sink); got != "ok" {
		t.Fatalf("first run reported %q", got)
	}
	if d := e.next(t); d.status != http.StatusOK {
		t.Fatalf("first run answered %d", d.status)
	}
	// Later runs fail: the task is retried, then dead with the error.
	task := mustTask(t, errFunc)
	task.RetryOptions = quickRetry(2)
	e.add(t, task, "")
	for i := range 3 {
		if got := next[string](t, e.sink); got != "error!" {
			t.Fatalf("run %d reported %q", i+2, got)
		}
		d := e.next(t)
		if d.status != http.StatusInternalServerError || d.permanent || d.headers.TaskRetryCount != int64(i) {
			t.Errorf("failing attempt %d: status %d, permanent %v, retry count %d", i+1, d.status, d.permanent, d.headers.TaskRetryCount)
		}
	}
	dead := e.dead(t, "default")
	if dead.Attempts != 3 || !strings.HasSuffix(dead.LastError, "error!") {
		t.Errorf("dead task: %d attempts, last error %q; want 3 and error!", dead.Attempts, dead.LastError)
	}
	nothingMore(t, e.sink)
}

func TestE2ERetryHeaders(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	task := mustTask(t, retryFunc)
	task.RetryOptions = quickRetry(5)
	added := e.add(t, task, "")
	for i := range 3 {
		h := next[*taskqueue.RequestHeaders](t, e.sink)
		if h.TaskRetryCount != int64(i) || h.TaskExecutionCount != int64(i) || h.QueueName != "default" || h.TaskName != added.Name {
			t.Errorf("attempt %d: headers %+v, want retry and execution count %d, queue default, task %s", i+1, h, i, added.Name)
		}
		if i > 0 && (h.TaskPreviousResponse != http.StatusInternalServerError || !strings.HasSuffix(h.TaskRetryReason, fmt.Sprintf("attempt %d failed", i))) {
			t.Errorf("attempt %d: previous response %d, retry reason %q", i+1, h.TaskPreviousResponse, h.TaskRetryReason)
		}
	}
	e.wantDone(t, "default")
	nothingMore(t, e.sink)
}

func TestE2EPermanentFailureIsNotRetried(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	task := mustTask(t, wrappedPermFunc)
	task.RetryOptions = quickRetry(5)
	e.add(t, task, "")
	if d := e.next(t); d.status != http.StatusInternalServerError || !d.permanent {
		t.Errorf("delivery answered %d, permanent %v", d.status, d.permanent)
	}
	dead := e.dead(t, "default")
	if dead.Attempts != 1 || !strings.HasSuffix(dead.LastError, "send: bad address") {
		t.Errorf("dead task: %d attempts, last error %q, reason %q", dead.Attempts, dead.LastError, dead.Reason)
	}
}

func TestE2EPanicIsRetried(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	task := mustTask(t, panicFunc)
	task.RetryOptions = quickRetry(5)
	e.add(t, task, "")
	if got := next[string](t, e.sink); got != "panicking" {
		t.Fatalf("first run reported %q", got)
	}
	if d := e.next(t); d.status != http.StatusInternalServerError || d.permanent || !strings.Contains(d.body, "boom") {
		t.Errorf("panicking attempt answered %d %q, permanent %v", d.status, d.body, d.permanent)
	}
	if got := next[string](t, e.sink); got != "ok" {
		t.Fatalf("second run reported %q", got)
	}
	e.wantDone(t, "default")
}

func TestE2EUnknownKeyRunsOnceRegistered(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	key := uniqueKey("delay_test.e2e.late")
	task, err := delay.TaskForKey(key, func(context.Context, string) {}, "not lost")
	if err != nil {
		t.Fatal(err)
	}
	task.RetryOptions = quickRetry(100)
	e.add(t, task, "")
	// Made by a process that has the function, run first by one that does not have it
	// yet: a failed attempt, not a dropped task.
	if d := e.next(t); d.status != http.StatusInternalServerError || d.permanent || !strings.Contains(d.body, key) {
		t.Fatalf("delivery for an unknown key answered %d %q, permanent %v", d.status, d.body, d.permanent)
	}
	delay.MustRegister(key, func(ctx context.Context, s string) { record(ctx, s) })
	if got := next[string](t, e.sink); got != "not lost" {
		t.Errorf("ran with %q", got)
	}
	e.wantDone(t, "default")
}

func TestE2EUnknownKeyEndsDead(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	task, err := delay.TaskForKey("nope:zzz", func(context.Context) {})
	if err != nil {
		t.Fatal(err)
	}
	task.RetryOptions = quickRetry(1)
	e.add(t, task, "")
	e.next(t)
	e.next(t)
	dead := e.dead(t, "default")
	if dead.Attempts != 2 || !strings.HasSuffix(dead.LastError, `delay: no func with key "nope:zzz" found`) {
		t.Errorf("dead task: %d attempts, last error %q", dead.Attempts, dead.LastError)
	}
}

func TestE2EUndecodablePayloadEndsDead(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	e.add(t, &taskqueue.Task{Path: delay.Path, Payload: []byte("garbage"), RetryOptions: quickRetry(5)}, "")
	if d := e.next(t); !d.permanent {
		t.Errorf("undecodable payload answered %d %q, not permanent", d.status, d.body)
	}
	dead := e.dead(t, "default")
	if dead.Attempts != 1 || !strings.Contains(dead.LastError, "delay: failed decoding task payload: ") {
		t.Errorf("dead task: %d attempts, last error %q", dead.Attempts, dead.LastError)
	}
}

func TestE2ESignatureMismatchEndsDead(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	task, err := delay.TaskForKey(regFunc.Key(), func(context.Context, int) {}, 5)
	if err != nil {
		t.Fatal(err)
	}
	task.RetryOptions = quickRetry(5)
	e.add(t, task, "")
	if d := e.next(t); !d.permanent {
		t.Errorf("mismatching arguments answered %d %q, not permanent", d.status, d.body)
	}
	dead := e.dead(t, "default")
	if dead.Attempts != 1 || !strings.Contains(dead.LastError, "task arguments do not match") {
		t.Errorf("dead task: %d attempts, last error %q", dead.Attempts, dead.LastError)
	}
	nothingMore(t, e.sink)
}

func TestE2ETaskInOtherQueue(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	task := mustTask(t, reqFunc)
	task.Name = "n1"
	e.add(t, task, "other")
	h := next[*taskqueue.RequestHeaders](t, e.sink)
	if h.QueueName != "other" || h.TaskName != "n1" {
		t.Errorf("ran in queue %q as %q, want other and n1", h.QueueName, h.TaskName)
	}
	if _, err := taskqueue.Add(e.ctx, task, "other"); err != taskqueue.ErrTaskAlreadyAdded {
		t.Errorf("adding n1 again: %v, want ErrTaskAlreadyAdded", err)
	}
	e.wantDone(t, "other")
}

// The fixes over App Engine, end to end.

func TestE2EVariadicCustomElementType(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	if err := varElemFunc.Call(e.ctx, VarElem{1}, VarElem{2}); err != nil {
		t.Fatalf("Call: %v", err)
	}
	if got := next[[]VarElem](t, e.sink); !reflect.DeepEqual(got, []VarElem{{1}, {2}}) {
		t.Errorf("received %v", got)
	}
	e.wantDone(t, "default")
}

func TestE2ETAndPointerT(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	if err := tFunc.Call(e.ctx, PairT{7}); err != nil {
		t.Fatal(err)
	}
	if got := next[PairT](t, e.sink); got.N != 7 {
		t.Errorf("T arrived as %v", got)
	}
	if err := ptFunc.Call(e.ctx, &PairT{8}); err != nil {
		t.Fatal(err)
	}
	if got := next[*PairT](t, e.sink); got == nil || got.N != 8 {
		t.Errorf("*T arrived as %v", got)
	}
	e.wantDone(t, "default")
}

func TestE2ECallerArgumentsNotModified(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	args := []any{(*CustomType)(nil), (*CustomImpl)(nil)}
	if err := custFunc.Call(e.ctx, args...); err != nil {
		t.Fatal(err)
	}
	if got := next[int](t, e.sink); got != 5 {
		t.Errorf("tally %d, want 5", got)
	}
	if p, ok := args[0].(*CustomType); !ok || p != nil {
		t.Errorf("args[0] = %#v, want the typed nil", args[0])
	}
	if p, ok := args[1].(*CustomImpl); !ok || p != nil {
		t.Errorf("args[1] = %#v, want the typed nil", args[1])
	}
	e.wantDone(t, "default")
}

func TestE2EFractionalETA(t *testing.T) {
	t.Parallel()
	e := startE2E(t)
	eta := time.Now().Truncate(time.Second).Add(-877 * time.Millisecond)
	task := mustTask(t, etaFunc)
	task.ETA = eta
	e.add(t, task, "")
	if got := next[time.Time](t, e.sink); !got.Equal(eta) {
		t.Errorf("TaskETA %v, want %v, with its fraction of a second", got, eta)
	}
	e.wantDone(t, "default")
}
