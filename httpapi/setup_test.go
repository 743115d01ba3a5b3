package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redelay/redelay/internal/redistest"
	"github.com/redelay/redelay/taskqueue"
	"github.com/redelay/redelay/worker"
)

// within bounds how long a test waits for something that should happen promptly; it is a
// guard against hangs, not a speed assertion.
const within = 10 * time.Second

const testKey = "test-key-1"

var secret = []byte("test-secret")

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// world is one test's API: a miniredis, a client, and the API served on loopback.
type world struct {
	t      *testing.T
	client *taskqueue.Client
	url    string // base URL of the API server
	http   *http.Client
}

// setup serves the API of cfg (Client and APIKeys filled in when left zero) on loopback.
func setup(t *testing.T, cfg Config) *world {
	t.Helper()
	if cfg.Client == nil {
		_, rdb := redistest.Miniredis(t)
		cfg.Client = taskqueue.NewClient(rdb, &taskqueue.Config{Logger: quietLogger()})
	}
	if cfg.APIKeys == nil {
		cfg.APIKeys = []string{"other-key", testKey}
	}
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &world{t: t, client: cfg.Client, url: srv.URL, http: srv.Client()}
}

// target serves h on loopback behind the delivery-signature check and runs a worker that
// pushes the tasks of queues to it until the test ends.
func (w *world) target(h http.Handler, queues ...string) *httptest.Server {
	t := w.t
	t.Helper()
	srv := httptest.NewServer(taskqueue.RequireSignature(secret, h))
	t.Cleanup(srv.Close)
	qs := map[string]int{}
	for _, q := range queues {
		qs[q] = 1
	}
	wk, err := worker.New(worker.Config{
		Client: w.client, Queues: qs, Target: srv.URL, Secret: secret, Logger: quietLogger(),
		ShutdownTimeout: time.Second,
	})
	if err != nil {
		t.Fatalf("worker.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- wk.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(within):
			t.Errorf("worker did not stop")
		}
	})
	return srv
}

// reply is an answer of the API.
type reply struct {
	code   int
	header http.Header
	body   []byte
}

// json decodes the answer's body into v, failing the test when it is not JSON.
func (r reply) json(t *testing.T, v any) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json (body %s)", ct, r.body)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, r.body)
	}
}

// errorText returns the "error" of a JSON error answer, failing the test when there is none.
func (r reply) errorText(t *testing.T) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	r.json(t, &e)
	if e.Error == "" {
		t.Errorf("error answer without an error text: %s", r.body)
	}
	return e.Error
}

// do sends a request with the test key; header is pairs of name, value.
func (w *world) do(method, path string, body any, header ...string) reply {
	w.t.Helper()
	return w.doKey(testKey, method, path, body, header...)
}

// doKey sends a request with key ("" for no Authorization header). body is nil, a string or
// []byte sent as it is, or a value sent as JSON.
func (w *world) doKey(key, method, path string, body any, header ...string) reply {
	t := w.t
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, w.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := w.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return reply{code: resp.StatusCode, header: resp.Header, body: b}
}

// want fails the test unless r has status code.
func (r reply) want(t *testing.T, code int) reply {
	t.Helper()
	if r.code != code {
		t.Fatalf("status %d, want %d; body: %s", r.code, code, r.body)
	}
	return r
}

// stats returns the statistics of queue.
func (w *world) stats(queue string) taskqueue.QueueStatistics {
	w.t.Helper()
	st, err := w.client.QueueStats(context.Background(), []string{queue})
	if err != nil {
		w.t.Fatalf("QueueStats: %v", err)
	}
	return st[0]
}

// recorded is a request a test server received.
type recorded struct {
	method, uri string
	header      http.Header
	body        []byte
}

// recorder keeps the requests it serves and answers them with fn.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
	fn   func(w http.ResponseWriter, r *http.Request, n int) // n: 1 for the first request
	got  chan recorded
}

func newRecorder(fn func(w http.ResponseWriter, r *http.Request, n int)) *recorder {
	return &recorder{fn: fn, got: make(chan recorded, 100)}
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(b))
	rec := recorded{method: r.Method, uri: r.URL.RequestURI(), header: r.Header.Clone(), body: b}
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, rec)
	n := len(rc.reqs)
	rc.mu.Unlock()
	if rc.fn != nil {
		rc.fn(w, r, n)
	}
	rc.got <- rec
}

func (rc *recorder) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.reqs)
}

// next returns the next request the recorder served, failing the test after within.
func (rc *recorder) next(t *testing.T) recorded {
	t.Helper()
	select {
	case r := <-rc.got:
		return r
	case <-time.After(within):
		t.Fatalf("no request within %s", within)
		return recorded{}
	}
}
