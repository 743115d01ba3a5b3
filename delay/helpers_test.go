package delay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redelay/redelay/delay"
	"github.com/redelay/redelay/internal/redistest"
	"github.com/redelay/redelay/taskqueue"
)

// within bounds how long a test waits for something that should happen promptly; it is a
// guard against hangs, not a speed assertion.
const within = 10 * time.Second

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// setup gives a test its own miniredis, a client of it, and a context carrying the client.
func setup(t *testing.T) (context.Context, *taskqueue.Client) {
	t.Helper()
	_, rdb := redistest.Miniredis(t)
	c := taskqueue.NewClient(rdb, &taskqueue.Config{Logger: quietLogger()})
	return taskqueue.WithClient(context.Background(), c), c
}

// queued returns how many tasks wait in queue, and fails the test when any task is dead.
func queued(t *testing.T, ctx context.Context, queue string) int {
	t.Helper()
	st, err := taskqueue.QueueStats(ctx, []string{queue})
	if err != nil {
		t.Fatalf("QueueStats(%q): %v", queue, err)
	}
	return st[0].Tasks + st[0].Dead
}

// wantNothingQueued fails the test when the default queue holds any task.
func wantNothingQueued(t *testing.T, ctx context.Context) {
	t.Helper()
	if n := queued(t, ctx, ""); n != 0 {
		t.Errorf("default queue holds %d tasks, want none", n)
	}
}

var keySeq atomic.Int64

// uniqueKey returns a MustRegister key no other test, or run of a test (-count), uses.
func uniqueKey(base string) string {
	return base + "." + strconv.FormatInt(keySeq.Add(1), 10)
}

// sink is where the fixtures report what they saw; a test puts one in the delivery
// context with withSink.
type sink struct {
	ch   chan any
	runs atomic.Int32
}

func newSink() *sink { return &sink{ch: make(chan any, 64)} }

type sinkKey struct{}

func sinkOf(ctx context.Context) *sink {
	s, ok := ctx.Value(sinkKey{}).(*sink)
	if !ok {
		panic("test fixture run without a sink in its context")
	}
	return s
}

// record reports v from a fixture.
func record(ctx context.Context, v any) { sinkOf(ctx).ch <- v }

// withSink wraps h so that the functions it runs report to s.
func withSink(h http.Handler, s *sink) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sinkKey{}, s)))
	})
}

// recv returns the next value of ch, failing the test if none comes within the bound.
func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(within):
		var zero T
		t.Fatalf("nothing received within %s", within)
		return zero
	}
}

// next returns what the fixture reported next, as a T.
func next[T any](t *testing.T, s *sink) T {
	t.Helper()
	v := recv(t, s.ch)
	tv, ok := v.(T)
	if !ok {
		t.Fatalf("fixture reported %T %v, want a %T", v, v, tv)
	}
	return tv
}

// nothingMore fails the test if the fixture reported anything else.
func nothingMore(t *testing.T, s *sink) {
	t.Helper()
	select {
	case v := <-s.ch:
		t.Errorf("fixture reported %v once more", v)
	default:
	}
}

// logBuffer collects JSON log records.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records returns the logged records, each as its JSON object.
func (b *logBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if line == "" {
			continue
		}
		m := map[string]any{}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// testHandler is delay's handler logging to a buffer the test can read.
func testHandler() (http.Handler, *logBuffer) {
	logs := &logBuffer{}
	return delay.NewHandler(delay.HandlerConfig{Logger: slog.New(slog.NewJSONHandler(logs, nil))}), logs
}

// deliver runs task through h as the worker delivers it, with the task headers in hdr (a
// task name is made up when hdr has none), reporting to s.
func deliver(t *testing.T, h http.Handler, s *sink, task *taskqueue.Task, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	withSink(h, s).ServeHTTP(rec, deliveryRequest(task, hdr))
	return rec
}

// deliveryRequest is the request the worker makes to deliver task, with the task headers
// in hdr (those missing made up).
func deliveryRequest(task *taskqueue.Task, hdr map[string]string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, delay.Path, bytes.NewReader(task.Payload))
	req.Header.Set(taskqueue.HeaderQueueName, "default")
	req.Header.Set(taskqueue.HeaderTaskName, "task1")
	req.Header.Set(taskqueue.HeaderTaskRetryCount, "0")
	req.Header.Set(taskqueue.HeaderTaskExecutionCount, "0")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return req
}

// mustTask is f.Task(args...), failing the test on an error.
func mustTask(t *testing.T, f *delay.Function, args ...any) *taskqueue.Task {
	t.Helper()
	task, err := f.Task(args...)
	if err != nil {
		t.Fatalf("%s.Task%v: %v", f.Key(), args, err)
	}
	return task
}

// wantStatus checks a delivery's response: its status, whether it marks the failure
// permanent, and that its body holds body.
func wantStatus(t *testing.T, rec *httptest.ResponseRecorder, status int, permanent bool, body string) {
	t.Helper()
	if rec.Code != status {
		t.Errorf("status %d (body %q), want %d", rec.Code, rec.Body.String(), status)
	}
	if got := rec.Header().Get(taskqueue.HeaderFailure) == taskqueue.FailurePermanent; got != permanent {
		t.Errorf("permanent failure header: %v, want %v", got, permanent)
	}
	if !strings.Contains(rec.Body.String(), body) {
		t.Errorf("body %q, want it to hold %q", rec.Body.String(), body)
	}
}

// wantPanic runs fn and returns what it panicked with, failing the test if it did not.
func wantPanic(t *testing.T, fn func()) (v any) {
	t.Helper()
	defer func() {
		v = recover()
		if v == nil {
			t.Errorf("no panic")
		}
	}()
	fn()
	return nil
}
