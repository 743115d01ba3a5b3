package delay_test

import (
	"context"
	"errors"
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
)

const testPkg = "github.com/redelay/redelay/delay_test"

func TestInvalidFunction(t *testing.T) {
	t.Parallel()
	ctx, _ := setup(t)
	tests := []struct {
		f    *delay.Function
		want string
	}{
		{invalidFunc, "delay: func is invalid: first argument must be context.Context"},
		{notFunc, "delay: func is invalid: not a function"},
		{delay.Func("nil-interface", nil), "delay: func is invalid: not a function"},
		{delay.Func("nil-func", (func(context.Context))(nil)), "delay: func is invalid: nil function"},
		{delay.Func("ctx-second", func(int, context.Context) {}), "delay: func is invalid: first argument must be context.Context"},
		{&delay.Function{}, "delay: func is invalid: not a function"},
		{delay.Func("ctx-like", func(interface {
			context.Context
			Foo()
		}) {
		}), "delay: func is invalid: first argument must be context.Context"},
	}
	for _, tt := range tests {
		if err := tt.f.Call(ctx); err == nil || err.Error() != tt.want {
			t.Errorf("%s: Call: %v, want %q", tt.f.Key(), err, tt.want)
		}
		if task, err := tt.f.Task(); err == nil || err.Error() != tt.want || task != nil {
			t.Errorf("%s: Task: %v, %v, want nil, %q", tt.f.Key(), task, err, tt.want)
		}
	}
	wantNothingQueued(t, ctx)
}

func TestInvalidFunction_MustRegister(t *testing.T) {
	t.Parallel()
	if v := wantPanic(t, func() { delay.MustRegister("delay_test.invalid", func() {}) }); v != delay.ErrFirstArg {
		t.Errorf("MustRegister panicked with %v, want errFirstArg", v)
	}
	if v := wantPanic(t, func() { delay.MustRegister("delay_test.zz", 5) }); fmt.Sprint(v) != "not a function" {
		t.Errorf("MustRegister panicked with %v, want not a function", v)
	}
}

func TestVariadicFunctionArguments(t *testing.T) {
	t.Parallel()
	ctx, _ := setup(t)
	for _, args := range [][]any{{"hi"}, {"%d", 12}, {"%d %d %d", 3, 1, 4}} {
		if err := varFunc.Call(ctx, args...); err != nil {
			t.Fatalf("Call%v: %v", args, err)
		}
	}
	if n := queued(t, ctx, ""); n != 3 {
		t.Errorf("%d tasks queued, want 3", n)
	}
	err := varFunc.Call(ctx, "%d %s", 12, "a string is bad")
	const want = "delay: argument 3 has wrong type: string is not assignable to int"
	if err == nil || err.Error() != want {
		t.Errorf("Call with a string for ...int: %v, want %q", err, want)
	}
	if n := queued(t, ctx, ""); n != 3 {
		t.Errorf("%d tasks queued after the bad call, want still 3", n)
	}
}

func TestBadArguments(t *testing.T) {
	t.Parallel()
	ctx, _ := setup(t)
	tests := []struct {
		f    *delay.Function
		args []any
		want string
	}{
		{regFunc, nil, "delay: too few arguments to func: 1 < 2"},
		{regFunc, []any{"lala", 53}, "delay: too many arguments to func: 3 > 2"},
		{regFunc, []any{53}, "delay: argument 1 has wrong type: int is not assignable to string"},
		{regMust, []any{53}, "delay: argument 1 has wrong type: int is not assignable to string"},
		{varFunc, nil, "delay: too few arguments to func: 1 < 2"},
		{pintFunc, []any{nil}, "delay: argument 1 has wrong type: int is not nilable"},
		{pintVarFunc, []any{1, nil}, "delay: argument 2 has wrong type: int is not nilable"},
		// No conversions, and no spreading of a slice over a variadic parameter.
		{int64Func, []any{5}, "delay: argument 1 has wrong type: int is not assignable to int64"},
		{pintVarFunc, []any{[]int{1, 2}}, "delay: argument 1 has wrong type: []int is not assignable to int"},
		{custFunc, []any{nil, 5}, "delay: argument 2 has wrong type: int is not assignable to delay_test.CustomInterface"},
		{custFunc, []any{CustomType{1}, nil}, "delay: argument 1 has wrong type: delay_test.CustomType is not assignable to *delay_test.CustomType"},
		// Values gob cannot encode.
		{custFunc, []any{nil, Unreg(1)}, "delay: gob encoding failed: gob: type not registered for interface: delay_test.Unreg"},
		{noExpFunc, []any{noExported{1}}, "delay: gob encoding failed: gob: type delay_test.noExported has no exported fields"},
		{chanFunc, []any{make(chan int)}, "delay: gob encoding failed: gob NewTypeObject can't handle type: chan int"},
	}
	for _, tt := range tests {
		err := tt.f.Call(ctx, tt.args...)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s.Call%v: %v, want %q", tt.f.Key(), tt.args, err, tt.want)
		}
		if _, err := tt.f.Task(tt.args...); err == nil || err.Error() != tt.want {
			t.Errorf("%s.Task%v: %v, want %q", tt.f.Key(), tt.args, err, tt.want)
		}
	}
	wantNothingQueued(t, ctx)
}

func TestCallAddsToDefaultQueue(t *testing.T) {
	t.Parallel()
	ctx, _ := setup(t)
	if err := regFunc.Call(ctx, "hello"); err != nil {
		t.Fatalf("Call: %v", err)
	}
	if n := queued(t, ctx, "default"); n != 1 {
		t.Errorf("default queue holds %d tasks, want 1", n)
	}
}

func TestCallReturnsAddError(t *testing.T) {
	t.Parallel()
	ctx, _ := setup(t)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := regFunc.Call(cctx, "hello"); !errors.Is(err, context.Canceled) {
		t.Errorf("Call with a canceled context: %v, want the add error, context.Canceled", err)
	}
	wantNothingQueued(t, ctx)
}

func TestTask(t *testing.T) {
	t.Parallel()
	task := mustTask(t, regFunc, "hello")
	if len(task.Payload) == 0 {
		t.Fatalf("Task has an empty payload")
	}
	want := &taskqueue.Task{Path: delay.Path, Payload: task.Payload}
	if !reflect.DeepEqual(task, want) {
		t.Errorf("Task = %+v, want only Path %q and Payload set", task, delay.Path)
	}
	if delay.Path != "/_ah/queue/go/delay" {
		t.Errorf("Path = %q", delay.Path)
	}
}

func TestTaskCustomised(t *testing.T) {
	t.Parallel()
	ctx, _ := setup(t)
	task := mustTask(t, regFunc, "later")
	task.Delay = 5 * time.Second
	task.Name = "n1"
	before := time.Now()
	added, err := taskqueue.Add(ctx, task, "other")
	if err != nil {
		t.Fatalf("Add: %v", err)
	}
	if added.Name != "n1" || added.Path != delay.Path || added.Method != "POST" {
		t.Errorf("added task %+v, want name n1, path %s, POST", added, delay.Path)
	}
	st, err := taskqueue.QueueStats(ctx, []string{"other", "default"})
	if err != nil {
		t.Fatal(err)
	}
	if st[0].Tasks != 1 || st[1].Tasks != 0 {
		t.Errorf("queues other/default hold %d/%d tasks, want 1/0", st[0].Tasks, st[1].Tasks)
	}
	if eta := st[0].OldestETA; eta.Before(before.Add(5*time.Second - time.Millisecond)) {
		t.Errorf("task due at %v, want 5s after %v", eta, before)
	}
	if _, err := taskqueue.Add(ctx, task, "other"); !errors.Is(err, taskqueue.ErrTaskAlreadyAdded) {
		t.Errorf("second Add of n1: %v, want ErrTaskAlreadyAdded", err)
	}
}

func TestRunningFunction(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		f    *delay.Function
		want string
	}{{regFunc, "Why, hello!"}, {regMust, "must:Why, hello!"}} {
		h, _ := testHandler()
		s := newSink()
		rec := deliver(t, h, s, mustTask(t, tt.f, "Why, hello!"), nil)
		wantStatus(t, rec, http.StatusOK, false, "")
		if got := next[string](t, s); got != tt.want {
			t.Errorf("%s ran with %q, want %q", tt.f.Key(), got, tt.want)
		}
		nothingMore(t, s)
	}
}

func TestCustomType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []any
		want int
	}{
		{[]any{&CustomType{N: 11}, CustomImpl(13)}, 24},
		{[]any{(*CustomType)(nil), nil}, 5}, // a nil pointer and a nil interface
		{[]any{nil, (*CustomImpl)(nil)}, 5}, // a typed nil arrives as the parameter's nil
	}
	for _, tt := range tests {
		h, _ := testHandler()
		s := newSink()
		wantStatus(t, deliver(t, h, s, mustTask(t, custFunc, tt.args...), nil), http.StatusOK, false, "")
		if got := next[int](t, s); got != tt.want {
			t.Errorf("custFunc%v tallied %d, want %d", tt.args, got, tt.want)
		}
	}
}

func TestRunningVariadic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []any
		want string
	}{
		{[]any{"Amiga %d has %d KB RAM", 500, 512}, "Amiga 500 has 512 KB RAM"},
		{[]any{"no args"}, "no args"},
		{[]any{"%d", 0}, "0"},
	}
	for _, tt := range tests {
		h, _ := testHandler()
		s := newSink()
		wantStatus(t, deliver(t, h, s, mustTask(t, varFunc, tt.args...), nil), http.StatusOK, false, "")
		if got := next[string](t, s); got != tt.want {
			t.Errorf("varFunc%v made %q, want %q", tt.args, got, tt.want)
		}
	}
}

func TestRoundTripValues(t *testing.T) {
	t.Parallel()
	tm := time.Date(2024, 2, 29, 12, 30, 15, 123456789, time.FixedZone("X", 3600))
	h, _ := testHandler()
	s := newSink()
	wantStatus(t, deliver(t, h, s, mustTask(t, roundTripFunc, []int{}, map[string]int{}, tm, 90*time.Second), nil), http.StatusOK, false, "")
	got := next[roundTrip](t, s)
	// As in App Engine: an empty slice arrives nil, an empty map as an empty map, times
	// and durations intact, no variadic arguments as an empty slice.
	if got.S != nil || got.M == nil || len(got.M) != 0 || !got.T.Equal(tm) || got.D != 90*time.Second || got.VS == nil || len(got.VS) != 0 {
		t.Errorf("round trip gave %#v", got)
	}
}

func TestErrorFunction(t *testing.T) {
	t.Parallel()
	h, logs := testHandler()
	s := newSink()
	task := mustTask(t, errFunc)
	wantStatus(t, deliver(t, h, s, task, nil), http.StatusOK, false, "")
	if got := next[string](t, s); got != "ok" {
		t.Fatalf("first run reported %q", got)
	}
	rec := deliver(t, h, s, task, map[string]string{taskqueue.HeaderTaskName: "errtask", taskqueue.HeaderTaskRetryCount: "1"})
	wantStatus(t, rec, http.StatusInternalServerError, false, "error!")
	if got := next[string](t, s); got != "error!" {
		t.Fatalf("second run reported %q", got)
	}
	recs := logs.records(t)
	if len(recs) != 1 {
		t.Fatalf("logged %d records, want 1: %v", len(recs), recs)
	}
	r := recs[0]
	if r["level"] != "ERROR" || r["error"] != "error!" || r["func_key"] != errFunc.Key() ||
		r["task"] != "errtask" || r["queue"] != "default" || r["attempt"] != float64(2) {
		t.Errorf("logged %v, want an error with func_key, task, queue, attempt and error", r)
	}
}

func TestErrorResults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		f         *delay.Function
		status    int
		permanent bool
		body      string
	}{
		{intErrFunc, http.StatusInternalServerError, false, "int err"},
		{errIntFunc, http.StatusOK, false, ""},                            // only a trailing error counts
		{myErrFunc, http.StatusOK, false, ""},                             // only a result declared error counts
		{typedNilFunc, http.StatusInternalServerError, false, "my error"}, // a typed nil in an error is an error
		{permFunc, http.StatusInternalServerError, true, "bad input"},
		{wrappedPermFunc, http.StatusInternalServerError, true, "send: bad address"},
	}
	for _, tt := range tests {
		h, _ := testHandler()
		rec := deliver(t, h, newSink(), mustTask(t, tt.f), nil)
		t.Run(tt.f.Key(), func(t *testing.T) { wantStatus(t, rec, tt.status, tt.permanent, tt.body) })
	}
}

func TestPermanent(t *testing.T) {
	t.Parallel()
	if delay.Permanent(nil) != nil {
		t.Errorf("Permanent(nil) is not nil")
	}
	base := errors.New("base")
	p := delay.Permanent(base)
	if p.Error() != "base" || !errors.Is(p, base) || !delay.IsPermanent(p) {
		t.Errorf("Permanent(base) = %v: text, Is or IsPermanent wrong", p)
	}
	var pe *delay.PermanentError
	if w := fmt.Errorf("wrapped: %w", p); !delay.IsPermanent(w) || !errors.As(w, &pe) || pe.Err != base {
		t.Errorf("a wrapped permanent error is not found")
	}
	if delay.IsPermanent(base) || delay.IsPermanent(nil) {
		t.Errorf("IsPermanent of a plain error or nil is true")
	}
}

func TestPanicRecovered(t *testing.T) {
	t.Parallel()
	h, logs := testHandler()
	s := newSink()
	task := mustTask(t, panicFunc)
	wantStatus(t, deliver(t, h, s, task, nil), http.StatusInternalServerError, false, "delay: func panicked: boom")
	if got := next[string](t, s); got != "panicking" {
		t.Fatalf("first run reported %q", got)
	}
	recs := logs.records(t)
	if len(recs) != 1 || recs[0]["error"] != "boom" || recs[0]["func_key"] != panicFunc.Key() ||
		!strings.Contains(fmt.Sprint(recs[0]["stack"]), "delay_test") {
		t.Errorf("logged %v, want the panic with its stack", recs)
	}
	// The handler keeps serving.
	wantStatus(t, deliver(t, h, s, task, nil), http.StatusOK, false, "")
	if got := next[string](t, s); got != "ok" {
		t.Errorf("second run reported %q", got)
	}
}

func TestGoexitIsAFailedAttempt(t *testing.T) {
	t.Parallel()
	h, _ := testHandler()
	req := deliveryRequest(mustTask(t, goexitFunc), nil)
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		rec := httptest.NewRecorder()
		defer func() { done <- rec }() // runs as runtime.Goexit unwinds this goroutine
		h.ServeHTTP(rec, req)
	}()
	rec := recv(t, done)
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "Goexit") {
		t.Errorf("status %d body %q, want 500 saying the func called Goexit", rec.Code, rec.Body.String())
	}
}

func TestUnknownKeyIsRetried(t *testing.T) {
	t.Parallel()
	task, err := delay.TaskForKey("nope:zzz", func(context.Context) {})
	if err != nil {
		t.Fatal(err)
	}
	h, logs := testHandler()
	wantStatus(t, deliver(t, h, newSink(), task, nil), http.StatusInternalServerError, false, `delay: no func with key "nope:zzz" found`)
	if recs := logs.records(t); len(recs) != 1 || recs[0]["func_key"] != "nope:zzz" {
		t.Errorf("logged %v, want one record naming the key", recs)
	}
}

func TestUndecodablePayloadIsPermanent(t *testing.T) {
	t.Parallel()
	for _, payload := range []string{"garbage", "", "\x00\x01\x02"} {
		h, _ := testHandler()
		rec := deliver(t, h, newSink(), &taskqueue.Task{Payload: []byte(payload)}, nil)
		wantStatus(t, rec, http.StatusInternalServerError, true, "delay: failed decoding task payload: ")
	}
}

func TestSignatureMismatchIsPermanent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		key  string
		fn   any
		args []any
	}{
		{"type changed", regFunc.Key(), func(context.Context, int) {}, []any{5}},
		{"parameter added", regFunc.Key(), func(context.Context, string, string) {}, []any{"a", "b"}},
		{"parameter removed", regFunc.Key(), func(context.Context) {}, nil},
		{"made variadic", regFunc.Key(), func(context.Context, ...string) {}, []any{"a"}},
		{"no longer variadic", varFunc.Key(), func(context.Context, string, int) {}, []any{"%d", 1}},
		{"variadic type changed", varFunc.Key(), func(context.Context, string, ...string) {}, []any{"%s", "x"}},
	}
	for _, tt := range tests {
		task, err := delay.TaskForKey(tt.key, tt.fn, tt.args...)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		h, _ := testHandler()
		s := newSink()
		rec := deliver(t, h, s, task, nil)
		t.Run(tt.name, func(t *testing.T) {
			wantStatus(t, rec, http.StatusInternalServerError, true, "delay: task arguments do not match func ")
			t.Log(rec.Body.String())
			nothingMore(t, s)
		})
	}
}

func TestGetRequestHeadersFromContext(t *testing.T) {
	t.Parallel()
	h, err := delay.RequestHeaders(context.Background())
	if h != nil || err == nil || err.Error() != "request headers are only available inside a delay.Func" || !errors.Is(err, delay.ErrOutsideDelayFunc) {
		t.Errorf("RequestHeaders outside: %v, %v", h, err)
	}
	handler, _ := testHandler()
	s := newSink()
	rec := deliver(t, handler, s, mustTask(t, reqFunc), map[string]string{
		taskqueue.HeaderQueueName:            "mail",
		taskqueue.HeaderTaskName:             "foobar",
		taskqueue.HeaderTaskRetryCount:       "4294967297",
		taskqueue.HeaderTaskExecutionCount:   "4294967296",
		taskqueue.HeaderTaskPreviousResponse: "500",
		taskqueue.HeaderTaskRetryReason:      "boom",
		taskqueue.HeaderTaskETA:              "1500000000.123456",
	})
	wantStatus(t, rec, http.StatusOK, false, "")
	got := next[*taskqueue.RequestHeaders](t, s)
	want := &taskqueue.RequestHeaders{
		QueueName: "mail", TaskName: "foobar", TaskRetryCount: 4294967297, TaskExecutionCount: 4294967296,
		TaskPreviousResponse: 500, TaskRetryReason: "boom", TaskETA: time.Unix(1500000000, 123456000),
	}
	if !got.TaskETA.Equal(want.TaskETA) {
		t.Errorf("TaskETA %v, want %v (fractional seconds kept)", got.TaskETA, want.TaskETA)
	}
	got.TaskETA = want.TaskETA
	if *got != *want {
		t.Errorf("RequestHeaders = %+v, want %+v", got, want)
	}
}

func TestStandardContext(t *testing.T) {
	t.Parallel()
	h, _ := testHandler()
	s := newSink()
	wantStatus(t, deliver(t, h, s, mustTask(t, stdCtxFunc), nil), http.StatusOK, false, "")
	if got := next[string](t, s); got != "ran" {
		t.Errorf("reported %q", got)
	}
	nothingMore(t, s)
}

func TestDuplicateFunction(t *testing.T) {
	t.Parallel()
	ctx, _ := setup(t)
	const want = "delay: func is invalid: multiple functions registered for " + testPkg + "/fixtures_test.go:dupe"
	if err := dupe1.Call(ctx); err == nil || err.Error() != want {
		t.Errorf("first dupe Call: %v, want %q", err, want)
	}
	if _, err := dupe1.Task(); err == nil || err.Error() != want {
		t.Errorf("first dupe Task: %v, want %q", err, want)
	}
	wantNothingQueued(t, ctx)
	if err := dupe2.Call(ctx); err != nil {
		t.Fatalf("second dupe Call: %v", err)
	}
	h, _ := testHandler()
	s := newSink()
	wantStatus(t, deliver(t, h, s, mustTask(t, dupe2), nil), http.StatusOK, false, "")
	if got := next[int](t, s); got != 2 {
		t.Errorf("ran dupe %d, want the second", got)
	}
}

func TestMustRegisterDuplicateFunction(t *testing.T) {
	t.Parallel()
	key := uniqueKey("delay_test.dupe")
	delay.MustRegister(key, func(context.Context) {})
	v := wantPanic(t, func() { delay.MustRegister(key, func(context.Context) {}) })
	if fmt.Sprint(v) != `multiple functions registered for "`+key+`"` {
		t.Errorf("panicked with %v", v)
	}
}

func TestMustRegisterAndFuncKeys(t *testing.T) {
	t.Parallel()
	key := uniqueKey("delay_test.both")
	must := delay.MustRegister(key, func(ctx context.Context) { record(ctx, "must") })
	fn := delay.Func(key, func(ctx context.Context) { record(ctx, "func") })
	if must.Key() != key {
		t.Errorf("MustRegister key %q, want %q", must.Key(), key)
	}
	if want := testPkg + "/delay_test.go:" + key; fn.Key() != want {
		t.Errorf("Func key %q, want %q", fn.Key(), want)
	}
	h, _ := testHandler()
	for f, want := range map[*delay.Function]string{must: "must", fn: "func"} {
		s := newSink()
		wantStatus(t, deliver(t, h, s, mustTask(t, f), nil), http.StatusOK, false, "")
		if got := next[string](t, s); got != want {
			t.Errorf("%s ran %q", f.Key(), got)
		}
	}
}

func TestFuncKeys(t *testing.T) {
	t.Parallel()
	tests := map[*delay.Function]string{
		regFunc:     testPkg + "/fixtures_test.go:reg",
		regMust:     "delay_test.reg",
		invalidFunc: testPkg + "/fixtures_test.go:invalid",
	}
	for f, want := range tests {
		if f.Key() != want {
			t.Errorf("Key() = %q, want %q", f.Key(), want)
		}
	}
}

// The fixes over App Engine.

func TestVariadicCustomElementTypeNeedsNoRegister(t *testing.T) {
	t.Parallel()
	h, _ := testHandler()
	s := newSink()
	wantStatus(t, deliver(t, h, s, mustTask(t, varElemFunc, VarElem{1}, VarElem{2}), nil), http.StatusOK, false, "")
	if got := next[[]VarElem](t, s); !reflect.DeepEqual(got, []VarElem{{1}, {2}}) {
		t.Errorf("received %v, want [{1} {2}]", got)
	}
}

func TestTAndPointerTCoexist(t *testing.T) {
	t.Parallel()
	// tFunc and ptFunc were registered at init without a panic; registering more now
	// does not panic either.
	delay.MustRegister(uniqueKey("delay_test.t"), func(context.Context, PairT, *PairT, []PairT, map[string]*PairT) {})
	h, _ := testHandler()
	s := newSink()
	wantStatus(t, deliver(t, h, s, mustTask(t, tFunc, PairT{7}), nil), http.StatusOK, false, "")
	wantStatus(t, deliver(t, h, s, mustTask(t, ptFunc, &PairT{8}), nil), http.StatusOK, false, "")
	wantStatus(t, deliver(t, h, s, mustTask(t, ptFunc, nil), nil), http.StatusOK, false, "")
	if got := next[PairT](t, s); got.N != 7 {
		t.Errorf("T arrived as %v", got)
	}
	if got := next[*PairT](t, s); got == nil || got.N != 8 {
		t.Errorf("*T arrived as %v", got)
	}
	if got := next[*PairT](t, s); got != nil {
		t.Errorf("nil *T arrived as %v", got)
	}
}

func TestCallerArgumentsNotModified(t *testing.T) {
	t.Parallel()
	ctx, _ := setup(t)
	args := []any{(*CustomType)(nil), (*CustomImpl)(nil)}
	if err := custFunc.Call(ctx, args...); err != nil {
		t.Fatal(err)
	}
	if _, err := custFunc.Task(args...); err != nil {
		t.Fatal(err)
	}
	if p, ok := args[0].(*CustomType); !ok || p != nil {
		t.Errorf("args[0] = %#v, want the typed nil *CustomType", args[0])
	}
	if p, ok := args[1].(*CustomImpl); !ok || p != nil {
		t.Errorf("args[1] = %#v, want the typed nil *CustomImpl", args[1])
	}
}

func TestNilChanArrives(t *testing.T) {
	t.Parallel()
	h, _ := testHandler()
	s := newSink()
	wantStatus(t, deliver(t, h, s, mustTask(t, chanFunc, nil), nil), http.StatusOK, false, "")
	if !next[bool](t, s) {
		t.Errorf("chan arrived non-nil")
	}
}

func TestConcurrentRegistration(t *testing.T) {
	t.Parallel()
	ctx, _ := setup(t)
	h, _ := testHandler()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			f := delay.Func("delay_test.race", func(context.Context, int) {})
			_, _ = f.Task(i)
			_ = f.Call(ctx, i)
			m := delay.MustRegister(uniqueKey("delay_test.race"), func(context.Context) {})
			task, err := m.Task()
			if err != nil {
				t.Error(err)
				return
			}
			h.ServeHTTP(httptest.NewRecorder(), deliveryRequest(task, nil))
			_ = delay.Func("delay_test.race", func(context.Context, int) {}).Key()
		})
	}
	wg.Wait()
}

func TestHandlerClientReachesTheFunction(t *testing.T) {
	t.Parallel()
	ctx, c := setup(t)
	h := delay.NewHandler(delay.HandlerConfig{Client: c, Logger: quietLogger()})
	wantStatus(t, deliver(t, h, newSink(), mustTask(t, chainFunc, "next"), nil), http.StatusOK, false, "")
	if n := queued(t, ctx, ""); n != 1 {
		t.Errorf("the chained call queued %d tasks in the handler's client, want 1", n)
	}
}

// TestCutOffPayloadIsRetried checks that a delivery whose body ends before its declared
// length is a plain failed attempt (retried), and runs nothing.
func TestCutOffPayloadIsRetried(t *testing.T) {
	t.Parallel()
	h, _ := testHandler()
	task := mustTask(t, regFunc, "cut")
	req := deliveryRequest(task, nil)
	req.ContentLength = int64(len(task.Payload)) + 10
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	wantStatus(t, rec, http.StatusInternalServerError, false, "reading task payload")
}
