package worker

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/redelay/redelay/internal/redistest"
	"github.com/redelay/redelay/taskqueue"
)

func waitFor(t *testing.T, c *taskqueue.Client, queue, name string) *taskqueue.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	st, err := c.Wait(ctx, queue, name)
	if err != nil {
		t.Fatalf("Wait(%s): %v", name, err)
	}
	return st
}

func status(t *testing.T, c *taskqueue.Client, name string) *taskqueue.Status {
	t.Helper()
	st, err := c.Status(context.Background(), "", name)
	if err != nil {
		t.Fatalf("Status(%s): %v", name, err)
	}
	return st
}

func TestStatusFollowsTheTask(t *testing.T) {
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		testStatusFollowsTheTask(t, taskqueue.NewClient(b.Client, &taskqueue.Config{KeyPrefix: b.Prefix, Logger: quietLogger()}))
	})
}

func testStatusFollowsTheTask(t *testing.T, c *taskqueue.Client) {
	ctx := context.Background()
	running := make(chan struct{})
	finish := make(chan struct{})
	h, _ := recordingHandler(func(d delivery, w http.ResponseWriter) {
		switch d.path {
		case "/ok":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"answer":42}`)
		case "/slow":
			close(running)
			<-finish
		case "/flaky":
			http.Error(w, "not yet", http.StatusInternalServerError)
		case "/fatal":
			w.Header().Set(taskqueue.HeaderFailure, taskqueue.FailurePermanent)
			http.Error(w, "cannot ever work", http.StatusBadRequest)
		}
	})
	add := func(task *taskqueue.Task) *taskqueue.Task {
		t.Helper()
		out, err := c.Add(ctx, task, "")
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	later := add(&taskqueue.Task{Path: "/ok", Delay: time.Hour})
	if st := status(t, c, later.Name); st.State != taskqueue.StateWaiting || st.Attempts != 0 || st.Enqueued.IsZero() {
		t.Errorf("delayed task: %+v, want waiting with no attempts", st)
	}
	start(t, Config{Client: c, Handler: h})

	ok := add(&taskqueue.Task{Path: "/ok"})
	st := waitFor(t, c, "", ok.Name)
	if st.State != taskqueue.StateSucceeded || string(st.Result) != `{"answer":42}` || st.Code != 200 ||
		st.Header.Get("Content-Type") != "application/json" || st.Attempts != 1 || st.Finished.Before(st.Started) || st.Started.IsZero() {
		t.Errorf("succeeded task: %+v", st)
	}

	slow := add(&taskqueue.Task{Path: "/slow"})
	<-running
	if st := status(t, c, slow.Name); st.State != taskqueue.StateRunning {
		t.Errorf("task in its handler: state %s, want running", st.State)
	}
	close(finish)
	waitFor(t, c, "", slow.Name)

	flaky := add(&taskqueue.Task{Path: "/flaky", RetryOptions: &taskqueue.RetryOptions{MinBackoff: time.Hour}})
	eventually(t, "flaky task failed once", func() bool { return status(t, c, flaky.Name).State == taskqueue.StateRetrying })
	if st := status(t, c, flaky.Name); st.Attempts != 1 || st.Code != 500 || st.LastError == "" {
		t.Errorf("retrying task: %+v, want 1 attempt with status 500 and its error", st)
	}

	fatal := add(&taskqueue.Task{Path: "/fatal"})
	st = waitFor(t, c, "", fatal.Name)
	if st.State != taskqueue.StateDead || !st.Permanent || st.Code != 400 || string(st.Result) != "cannot ever work\n" || st.Reason == "" {
		t.Errorf("dead task: %+v", st)
	}

	if _, err := c.Status(ctx, "", "nosuchtask"); err != taskqueue.ErrTaskNotFound {
		t.Errorf("Status of an unknown task: %v, want ErrTaskNotFound", err)
	}
}

func TestDiscardResultKeepsNoBody(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	h, _ := recordingHandler(func(_ delivery, w http.ResponseWriter) { io.WriteString(w, "big result") })
	start(t, Config{Client: c, Handler: h})
	added, err := c.Add(context.Background(), &taskqueue.Task{DiscardResult: true}, "")
	if err != nil {
		t.Fatal(err)
	}
	if st := waitFor(t, c, "", added.Name); st.State != taskqueue.StateSucceeded || st.Result != nil {
		t.Errorf("status %+v, want succeeded with no result", st)
	}
}

func TestCallbackGetsTheOutcomeUntilItAccepts(t *testing.T) {
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		testCallbackGetsTheOutcomeUntilItAccepts(t, taskqueue.NewClient(b.Client, &taskqueue.Config{KeyPrefix: b.Prefix, Logger: quietLogger()}))
	})
}

func testCallbackGetsTheOutcomeUntilItAccepts(t *testing.T, c *taskqueue.Client) {
	secret := []byte("cb-secret")
	type call struct {
		header http.Header
		body   string
	}
	calls := make(chan call, 10)
	failures := 0
	cb := httptest.NewServer(taskqueue.RequireSignature(secret, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		calls <- call{r.Header.Clone(), string(b)}
		if failures < 2 {
			failures++
			http.Error(w, "callback receiver down", http.StatusServiceUnavailable)
		}
	})))
	t.Cleanup(cb.Close)
	h, _ := recordingHandler(func(_ delivery, w http.ResponseWriter) {
		w.Header().Set("X-Answer", "yes")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "made it")
	})
	start(t, Config{Client: c, Handler: h, Secret: secret})
	added, err := c.Add(context.Background(), &taskqueue.Task{CallbackURL: cb.URL + "/done"}, "")
	if err != nil {
		t.Fatal(err)
	}
	var last call
	for range 3 {
		select {
		case last = <-calls:
		case <-time.After(within):
			t.Fatal("callback not called three times")
		}
	}
	if last.body != "made it" || last.header.Get(taskqueue.HeaderFunctionStatus) != "201" ||
		last.header.Get(taskqueue.HeaderCallID) != added.Name || last.header.Get("X-Answer") != "yes" {
		t.Errorf("callback: body %q headers %v", last.body, last.header)
	}
	if d, err := strconv.ParseFloat(last.header.Get(taskqueue.HeaderDurationSeconds), 64); err != nil || d < 0 {
		t.Errorf("X-Duration-Seconds %q", last.header.Get(taskqueue.HeaderDurationSeconds))
	}
	eventually(t, "callback task done", func() bool { return stats(t, c, "default").Tasks == 0 })
	select {
	case extra := <-calls:
		t.Errorf("callback called again after it accepted: %+v", extra)
	default:
	}
}

func TestMethodOverrideDeliversOtherMethods(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	h, seen := recordingHandler(nil)
	start(t, Config{Client: c, Handler: h})
	_, err := c.Add(context.Background(), &taskqueue.Task{
		Path: "/items/1", Payload: []byte(`{"x":1}`),
		Header: http.Header{taskqueue.HeaderMethodOverride: {"PATCH"}},
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	d := next(t, seen)
	if d.method != "PATCH" || d.body != `{"x":1}` || d.raw.Get(taskqueue.HeaderMethodOverride) != "" {
		t.Errorf("delivery %s body %q override header %q; want PATCH with the body and no override header", d.method, d.body, d.raw.Get(taskqueue.HeaderMethodOverride))
	}
}
