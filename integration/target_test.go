package integration

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redelay/redelay/taskqueue"
)

// delivery is one request that passed the signature check.
type delivery struct {
	via        string // the label of the server that got it
	name       string
	queue      string
	method     string
	path       string
	body       string
	retryCount int
	execCount  int
}

// recorder is the push target of the tests: servers behind taskqueue.RequireSignature that
// record every delivery and answer 200, or hold deliveries until released.
type recorder struct {
	secret []byte

	mu         sync.Mutex
	changed    chan struct{} // closed and replaced at every change
	deliveries []delivery
	ok         map[string]int // task name -> deliveries answered 200
	okTotal    int
	running    int           // deliveries in the handler now
	hold       chan struct{} // non-nil: deliveries wait for it to close, or for their request to end
	holdFrom   int           // hold only once okTotal has reached this
}

func newRecorder(secret string) *recorder {
	return &recorder{secret: []byte(secret), changed: make(chan struct{}), ok: map[string]int{}}
}

// server starts a target server labeled via, closed when t ends, and returns its URL.
func (rc *recorder) server(t *testing.T, via string) string {
	t.Helper()
	srv := httptest.NewServer(taskqueue.RequireSignature(rc.secret, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.serve(via, w, r)
	})))
	t.Cleanup(func() {
		rc.release() // so Close does not wait for held deliveries
		srv.Close()
	})
	return srv.URL
}

func (rc *recorder) serve(via string, w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h := r.Header
	d := delivery{
		via: via, name: h.Get(taskqueue.HeaderTaskName), queue: h.Get(taskqueue.HeaderQueueName),
		method: r.Method, path: r.URL.Path, body: string(body),
	}
	d.retryCount, _ = strconv.Atoi(h.Get(taskqueue.HeaderTaskRetryCount))
	d.execCount, _ = strconv.Atoi(h.Get(taskqueue.HeaderTaskExecutionCount))

	rc.mu.Lock()
	rc.deliveries = append(rc.deliveries, d)
	var hold chan struct{}
	if rc.hold != nil && rc.okTotal >= rc.holdFrom {
		hold = rc.hold
	}
	rc.running++
	rc.notify()
	rc.mu.Unlock()

	answered := true
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done(): // the worker went away or gave up
			answered = false
		}
	}

	rc.mu.Lock()
	rc.running--
	if answered {
		rc.ok[d.name]++
		rc.okTotal++
	}
	rc.notify()
	rc.mu.Unlock()
	if answered {
		w.WriteHeader(http.StatusOK)
	}
}

func (rc *recorder) notify() {
	close(rc.changed)
	rc.changed = make(chan struct{})
}

// holdAfter makes deliveries wait, once n deliveries in all were answered, until release.
func (rc *recorder) holdAfter(n int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.hold = make(chan struct{})
	rc.holdFrom = n
	rc.notify()
}

// release lets held deliveries, and all later ones, through.
func (rc *recorder) release() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.hold != nil {
		close(rc.hold)
		rc.hold = nil
		rc.notify()
	}
}

// wait waits until cond, called with rc locked, holds.
func (rc *recorder) wait(t *testing.T, limit time.Duration, what string, cond func(rc *recorder) bool) {
	t.Helper()
	deadline := time.After(limit)
	for {
		rc.mu.Lock()
		ok := cond(rc)
		ch := rc.changed
		summary := rc.summaryLocked()
		rc.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("%s: not within %s (%s)", what, limit, summary)
		}
	}
}

func (rc *recorder) summaryLocked() string {
	return strconv.Itoa(len(rc.ok)) + " tasks answered 200, " + strconv.Itoa(len(rc.deliveries)) +
		" deliveries, " + strconv.Itoa(rc.running) + " running"
}

// waitDone waits until every task in names was answered 200 at least once.
func (rc *recorder) waitDone(t *testing.T, limit time.Duration, names []string) {
	t.Helper()
	rc.wait(t, limit, "every task delivered", func(rc *recorder) bool { return rc.doneLocked(names) })
}

func (rc *recorder) doneLocked(names []string) bool {
	for _, n := range names {
		if rc.ok[n] == 0 {
			return false
		}
	}
	return true
}

// snapshot returns a copy of the deliveries and of the 200 counts.
func (rc *recorder) snapshot() ([]delivery, map[string]int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	ok := make(map[string]int, len(rc.ok))
	for k, v := range rc.ok {
		ok[k] = v
	}
	return append([]delivery(nil), rc.deliveries...), ok
}

// duplicates counts the 200 answers beyond the first for each task of names.
func duplicates(ok map[string]int, names []string) int {
	n := 0
	for _, name := range names {
		if ok[name] > 1 {
			n += ok[name] - 1
		}
	}
	return n
}
