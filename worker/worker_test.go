package worker

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redelay/redelay/internal/broker"
	"github.com/redelay/redelay/internal/clientinfo"
	"github.com/redelay/redelay/internal/redistest"
	"github.com/redelay/redelay/taskqueue"
)

// within is how long a test waits for something that should happen promptly before it
// fails; it is a bound against hangs, not a speed assertion.
const within = 10 * time.Second

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newClient(t *testing.T) *taskqueue.Client {
	t.Helper()
	_, rdb := redistest.Miniredis(t)
	return taskqueue.NewClient(rdb, &taskqueue.Config{Logger: quietLogger()})
}

// start runs a worker for cfg until the test ends or the returned stop is called; stop
// waits for Run to return and fails the test if it returned an error.
func start(t *testing.T, cfg Config) (stop func()) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	w, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run returned %v, want nil", err)
				}
			case <-time.After(within + cfg.ShutdownTimeout):
				t.Errorf("Run did not return after its context ended")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// delivery is what a test handler saw.
type delivery struct {
	path    string
	method  string
	body    string
	headers *taskqueue.RequestHeaders
	raw     http.Header
}

// recordingHandler sends every delivery to the returned channel and answers with respond.
func recordingHandler(respond func(d delivery, w http.ResponseWriter)) (http.Handler, <-chan delivery) {
	ch := make(chan delivery, 10000)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		d := delivery{path: r.URL.Path, method: r.Method, body: string(b), headers: taskqueue.ParseRequestHeaders(r.Header), raw: r.Header.Clone()}
		ch <- d
		if respond != nil {
			respond(d, w)
		}
	}), ch
}

func next(t *testing.T, ch <-chan delivery) delivery {
	t.Helper()
	select {
	case d := <-ch:
		return d
	case <-time.After(within):
		t.Fatalf("no delivery within %s", within)
		return delivery{}
	}
}

func stats(t *testing.T, c *taskqueue.Client, queue string) taskqueue.QueueStatistics {
	t.Helper()
	st, err := c.QueueStats(context.Background(), []string{queue})
	if err != nil {
		t.Fatalf("QueueStats: %v", err)
	}
	return st[0]
}

// eventually polls cond until it holds or within passes. Tests use it only to observe
// state that the worker records after the handler returned (such as an ack).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %s", what, within)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestDeliversEveryTaskInProcess(t *testing.T) {
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		testDeliversEveryTask(t, taskqueue.NewClient(b.Client, &taskqueue.Config{KeyPrefix: b.Prefix, Logger: quietLogger()}))
	})
}

func testDeliversEveryTask(t *testing.T, c *taskqueue.Client) {
	ctx := context.Background()
	h, seen := recordingHandler(nil)
	const n = 300
	tasks := make([]*taskqueue.Task, n)
	for i := range tasks {
		tasks[i] = &taskqueue.Task{Payload: []byte(strconv.Itoa(i))}
	}
	if _, err := c.AddMulti(ctx, tasks, ""); err != nil {
		t.Fatal(err)
	}
	start(t, Config{Client: c, Handler: h, Concurrency: 8})
	got := map[string]bool{}
	for range n {
		d := next(t, seen)
		if d.path != "/_ah/queue/default" || d.method != "POST" || d.headers.QueueName != "default" {
			t.Fatalf("delivery %+v: want POST /_ah/queue/default in queue default", d)
		}
		if got[d.body] {
			t.Fatalf("payload %s delivered twice", d.body)
		}
		got[d.body] = true
	}
	eventually(t, "queue empty and executions counted", func() bool {
		st := stats(t, c, "default")
		return st.Tasks == 0 && st.Executed1Minute == n
	})
}

func TestDeliveryCarriesTaskRequest(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := context.Background()
	h, seen := recordingHandler(nil)
	start(t, Config{Client: c, Handler: h, Queues: map[string]int{"mail": 1}})
	eta := time.Now().Add(-time.Second).Truncate(time.Millisecond)
	added, err := c.Add(ctx, &taskqueue.Task{
		Path: "/jobs/send", Method: "PUT", Payload: []byte("hello"), Name: "send-1", ETA: eta,
		Header: http.Header{"X-Custom": {"v"}},
	}, "mail")
	if err != nil {
		t.Fatal(err)
	}
	d := next(t, seen)
	if d.path != "/jobs/send" || d.method != "PUT" || d.body != "hello" || d.raw.Get("X-Custom") != "v" {
		t.Errorf("delivery = %s %s body %q X-Custom %q; want PUT /jobs/send body hello X-Custom v", d.method, d.path, d.body, d.raw.Get("X-Custom"))
	}
	hd := d.headers
	if hd.QueueName != "mail" || hd.TaskName != added.Name || hd.TaskRetryCount != 0 || hd.TaskExecutionCount != 0 {
		t.Errorf("headers = %+v", hd)
	}
	if !hd.TaskETA.Equal(eta) {
		t.Errorf("TaskETA = %v, want %v", hd.TaskETA, eta)
	}
	// A GET task carries no body.
	if _, err := c.Add(ctx, &taskqueue.Task{Path: "/get", Method: "GET", Payload: []byte("dropped")}, "mail"); err != nil {
		t.Fatal(err)
	}
	if d := next(t, seen); d.method != "GET" || d.body != "" {
		t.Errorf("GET delivery: method %s body %q, want GET with no body", d.method, d.body)
	}
}

func TestFailedAttemptsAreRetriedWithHeaders(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	h, seen := recordingHandler(func(d delivery, w http.ResponseWriter) {
		if d.headers.TaskRetryCount < 2 {
			http.Error(w, fmt.Sprintf("boom %d", d.headers.TaskRetryCount), http.StatusInternalServerError)
		}
	})
	start(t, Config{Client: c, Handler: h})
	_, err := c.Add(context.Background(), &taskqueue.Task{RetryOptions: &taskqueue.RetryOptions{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}}, "")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		hd := next(t, seen).headers
		if hd.TaskRetryCount != int64(i) || hd.TaskExecutionCount != int64(i) {
			t.Errorf("attempt %d: retry count %d, execution count %d; want %d and %d", i+1, hd.TaskRetryCount, hd.TaskExecutionCount, i, i)
		}
		if i > 0 && (hd.TaskPreviousResponse != 500 || !strings.Contains(hd.TaskRetryReason, fmt.Sprintf("boom %d", i-1))) {
			t.Errorf("attempt %d: previous response %d, reason %q; want 500 and boom %d", i+1, hd.TaskPreviousResponse, hd.TaskRetryReason, i-1)
		}
	}
	eventually(t, "task done", func() bool { return stats(t, c, "default").Tasks == 0 })
	select {
	case d := <-seen:
		t.Errorf("unexpected fourth delivery %+v", d.headers)
	default:
	}
}

func TestOutOfRetriesTaskIsDead(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	h, seen := recordingHandler(func(_ delivery, w http.ResponseWriter) {
		http.Error(w, "always broken", http.StatusBadGateway)
	})
	start(t, Config{Client: c, Handler: h})
	added, err := c.Add(context.Background(), &taskqueue.Task{RetryOptions: &taskqueue.RetryOptions{RetryLimit: 2, MinBackoff: time.Millisecond}}, "")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		next(t, seen)
	}
	var dead []*taskqueue.DeadTask
	eventually(t, "task dead", func() bool {
		dead, err = c.DeadTasks(context.Background(), "", 0, 10)
		return err == nil && len(dead) == 1
	})
	d := dead[0]
	if d.Task.Name != added.Name || d.Attempts != 3 || d.LastStatus != http.StatusBadGateway || !strings.Contains(d.LastError, "always broken") || !strings.Contains(d.Reason, "out of retries") {
		t.Errorf("dead task = %+v, want %s after 3 attempts with status 502 and the body as last error", d, added.Name)
	}
	if st := stats(t, c, "default"); st.Tasks != 0 || st.Dead != 1 {
		t.Errorf("stats = %+v, want 0 tasks and 1 dead", st)
	}
	select {
	case <-seen:
		t.Error("dead task delivered again")
	default:
	}
}

func TestNoRetryAndPermanentFailureGoStraightToDead(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	h, seen := recordingHandler(func(d delivery, w http.ResponseWriter) {
		if d.path == "/permanent" {
			w.Header().Set(taskqueue.HeaderFailure, taskqueue.FailurePermanent)
		}
		http.Error(w, "no", http.StatusInternalServerError)
	})
	start(t, Config{Client: c, Handler: h})
	ctx := context.Background()
	if _, err := c.Add(ctx, &taskqueue.Task{Path: "/permanent", Name: "p"}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Add(ctx, &taskqueue.Task{Path: "/once", Name: "o", RetryOptions: taskqueue.NoRetry()}, ""); err != nil {
		t.Fatal(err)
	}
	next(t, seen)
	next(t, seen)
	eventually(t, "both dead", func() bool { return stats(t, c, "default").Dead == 2 })
	dead, err := c.DeadTasks(ctx, "", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dead {
		if d.Attempts != 1 {
			t.Errorf("%s: %d attempts, want 1", d.Task.Name, d.Attempts)
		}
		if d.Task.Name == "p" && !strings.HasPrefix(d.Reason, "permanent failure") {
			t.Errorf("reason of p = %q, want a permanent failure", d.Reason)
		}
	}
	// Requeued, a dead task runs again with a fresh history.
	if err := c.Requeue(ctx, "", "o"); err != nil {
		t.Fatal(err)
	}
	if d := next(t, seen); d.path != "/once" || d.headers.TaskRetryCount != 0 {
		t.Errorf("requeued delivery %s retry count %d, want /once with 0", d.path, d.headers.TaskRetryCount)
	}
}

func TestDelayedTaskRunsAtItsETA(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	h, seen := recordingHandler(nil)
	start(t, Config{Client: c, Handler: h})
	added, err := c.Add(context.Background(), &taskqueue.Task{Delay: 300 * time.Millisecond}, "")
	if err != nil {
		t.Fatal(err)
	}
	next(t, seen)
	if now := time.Now(); now.Before(added.ETA) {
		t.Errorf("delivered at %v, before its ETA %v", now, added.ETA)
	}
}

func TestTaskOfDeadWorkerIsDeliveredAgain(t *testing.T) {
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		testTaskOfDeadWorkerIsDeliveredAgain(t, taskqueue.NewClient(b.Client, &taskqueue.Config{KeyPrefix: b.Prefix, Logger: quietLogger()}))
	})
}

func testTaskOfDeadWorkerIsDeliveredAgain(t *testing.T, c *taskqueue.Client) {
	ctx := context.Background()
	if _, err := c.Add(ctx, &taskqueue.Task{Name: "orphan"}, ""); err != nil {
		t.Fatal(err)
	}
	// A worker leases the task and dies holding it.
	b := clientinfo.Of(c).Broker
	res := b.Lease(ctx, time.Now().UnixMilli(), []broker.LeaseRequest{{Queue: "default", Limit: 10, LeaseMs: 1000}})
	if res[0].Err != nil || len(res[0].Tasks) != 1 {
		t.Fatalf("lease: %+v", res[0])
	}
	h, seen := recordingHandler(nil)
	start(t, Config{Client: c, Handler: h, LeaseDuration: time.Second})
	d := next(t, seen)
	if d.headers.TaskName != "orphan" || d.headers.TaskRetryCount != 1 || d.headers.TaskExecutionCount != 0 {
		t.Errorf("redelivery: %+v; want orphan with retry count 1 and execution count 0", d.headers)
	}
}

func TestShutdownReturnsUnfinishedTasksAtOnce(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := context.Background()
	release := make(chan struct{})
	h, seen := recordingHandler(func(d delivery, w http.ResponseWriter) {
		if d.body == "slow" {
			<-release
		}
	})
	stop := start(t, Config{Client: c, Handler: h, Concurrency: 1, ShutdownTimeout: 50 * time.Millisecond})
	if _, err := c.Add(ctx, &taskqueue.Task{Payload: []byte("slow"), Name: "slow"}, ""); err != nil {
		t.Fatal(err)
	}
	next(t, seen)
	for i := range 3 {
		if _, err := c.Add(ctx, &taskqueue.Task{Payload: []byte("quick"), Name: "quick" + strconv.Itoa(i)}, ""); err != nil {
			t.Fatal(err)
		}
	}
	stop()
	close(release)
	st := stats(t, c, "default")
	if st.InFlight != 0 || st.Tasks < 1 {
		t.Fatalf("after shutdown: %+v; want the unfinished tasks waiting, none in flight", st)
	}
	if st.OldestETA.After(time.Now()) {
		t.Errorf("oldest due %v is in the future: unfinished tasks must be due again at once", st.OldestETA)
	}
	// The next worker runs all of them at once, the slow one as a retry.
	h2, seen2 := recordingHandler(nil)
	start(t, Config{Client: c, Handler: h2})
	names := map[string]int64{}
	for range st.Tasks {
		d := next(t, seen2)
		names[d.headers.TaskName] = d.headers.TaskRetryCount
	}
	if rc, ok := names["slow"]; !ok || rc != 1 {
		t.Errorf("slow task redelivered: %v with retry count %d; want it with 1 (in %v)", ok, rc, names)
	}
}

func TestPushModeSignsDeliveries(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	secret := []byte("s3cret")
	h, seen := recordingHandler(nil)
	srv := httptest.NewServer(taskqueue.RequireSignature(secret, h))
	t.Cleanup(srv.Close)
	start(t, Config{Client: c, Target: srv.URL, Secret: secret})
	if _, err := c.Add(context.Background(), &taskqueue.Task{Path: "/hook", Payload: []byte("signed")}, ""); err != nil {
		t.Fatal(err)
	}
	if d := next(t, seen); d.path != "/hook" || d.body != "signed" || d.headers.QueueName != "default" {
		t.Errorf("delivery %+v", d)
	}
	// A request with no signature never reaches the handler.
	resp, err := http.Post(srv.URL+"/hook", "text/plain", strings.NewReader("forged"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned request: status %d, want 401", resp.StatusCode)
	}
	select {
	case d := <-seen:
		t.Errorf("unsigned request reached the handler: %+v", d)
	default:
	}
}

func TestPushModeWithWrongKeyFails(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	h, seen := recordingHandler(nil)
	srv := httptest.NewServer(taskqueue.RequireSignature([]byte("right"), h))
	t.Cleanup(srv.Close)
	start(t, Config{Client: c, Target: srv.URL, Secret: []byte("wrong")})
	if _, err := c.Add(context.Background(), &taskqueue.Task{RetryOptions: taskqueue.NoRetry()}, ""); err != nil {
		t.Fatal(err)
	}
	var dead []*taskqueue.DeadTask
	eventually(t, "task dead", func() bool {
		dead, _ = c.DeadTasks(context.Background(), "", 0, 1)
		return len(dead) == 1
	})
	if dead[0].LastStatus != http.StatusUnauthorized {
		t.Errorf("last status %d, want 401", dead[0].LastStatus)
	}
	select {
	case <-seen:
		t.Error("wrongly signed delivery reached the handler")
	default:
	}
}

func TestWeightedQueuesShareDeliveries(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := context.Background()
	for _, q := range []string{"heavy", "light"} {
		tasks := make([]*taskqueue.Task, 200)
		for i := range tasks {
			tasks[i] = &taskqueue.Task{}
		}
		if _, err := c.AddMulti(ctx, tasks, q); err != nil {
			t.Fatal(err)
		}
	}
	h, seen := recordingHandler(nil)
	start(t, Config{Client: c, Handler: h, Concurrency: 4, Queues: map[string]int{"heavy": 3, "light": 1}})
	count := map[string]int{}
	for range 200 {
		count[next(t, seen).headers.QueueName]++
	}
	// 3:1 would be 150:50.
	if count["heavy"] < 130 || count["heavy"] > 170 {
		t.Errorf("first 200 deliveries: %v; want about 150 heavy and 50 light", count)
	}
}

func TestResumesAfterRedisOutage(t *testing.T) {
	t.Parallel()
	mr, rdb := redistest.Miniredis(t)
	c := taskqueue.NewClient(rdb, &taskqueue.Config{Logger: quietLogger()})
	h, seen := recordingHandler(nil)
	start(t, Config{Client: c, Handler: h})
	ctx := context.Background()
	if _, err := c.Add(ctx, &taskqueue.Task{Name: "before"}, ""); err != nil {
		t.Fatal(err)
	}
	next(t, seen)
	mr.Close()
	if _, err := c.Add(ctx, &taskqueue.Task{Name: "during"}, ""); err == nil {
		t.Fatal("Add succeeded with Redis down")
	}
	if err := mr.Restart(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Add(ctx, &taskqueue.Task{Name: "after"}, ""); err != nil {
		t.Fatal(err)
	}
	if d := next(t, seen); d.headers.TaskName != "after" {
		t.Errorf("delivered %s, want after", d.headers.TaskName)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	h := http.NotFoundHandler()
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Client: c, Queues: map[string]int{}}, "Queues"},
		{Config{Client: c, Queues: map[string]int{"bad name": 1}}, "Queues"},
		{Config{Client: c, Queues: map[string]int{"q": 0}}, "Queues"},
		{Config{Client: c, Concurrency: -1}, "Concurrency"},
		{Config{Client: c, LeaseDuration: time.Millisecond}, "LeaseDuration"},
		{Config{Client: c, ShutdownTimeout: -time.Second}, "ShutdownTimeout"},
		{Config{Client: c, DeliveryTimeout: -time.Second}, "DeliveryTimeout"},
		{Config{Client: c, Handler: h, Target: "http://x", Secret: []byte("s")}, "Handler and Target"},
		{Config{Client: c, Target: "ftp://x", Secret: []byte("s")}, "Target"},
		{Config{Client: c, Target: "http://app:8080"}, "Secret"},
	} {
		_, err := New(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want an error naming %s", tc.cfg, err, tc.want)
		}
	}
	if _, err := New(Config{Client: c}); err != nil {
		t.Errorf("New with defaults: %v", err)
	}
}
