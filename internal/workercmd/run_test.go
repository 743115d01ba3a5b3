package workercmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redelay/redelay/internal/redistest"
	"github.com/redelay/redelay/taskqueue"
)

// within bounds every wait: a guard against hangs, not a speed assertion.
const within = 10 * time.Second

// output is a writer a test can wait on.
type output struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced at every write
}

func newOutput() *output { return &output{changed: make(chan struct{})} }

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.Write(p)
	close(o.changed)
	o.changed = make(chan struct{})
	return len(p), nil
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// waitMatch waits until the output matches re and returns the first submatch (or the match).
func (o *output) waitMatch(t *testing.T, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.After(within)
	for {
		o.mu.Lock()
		m := re.FindStringSubmatch(o.buf.String())
		ch := o.changed
		o.mu.Unlock()
		if m != nil {
			return m[len(m)-1]
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("output never matched %s; it is:\n%s", re, o.String())
		}
	}
}

// running is a Command.Run in a goroutine.
type running struct {
	stdout, stderr *output
	cancel         context.CancelFunc
	done           chan int
}

func start(t *testing.T, cmd Command, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{stdout: newOutput(), stderr: newOutput(), cancel: cancel, done: make(chan int, 1)}
	go func() { r.done <- cmd.Run(ctx, args, nil, r.stdout, r.stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(within):
			t.Errorf("Run did not return after its context ended")
		}
	})
	return r
}

// stop cancels the run and returns its exit code.
func (r *running) stop(t *testing.T) int {
	t.Helper()
	r.cancel()
	select {
	case code := <-r.done:
		r.done <- code // for the cleanup
		return code
	case <-time.After(within):
		t.Fatalf("Run did not return after its context ended; stderr:\n%s", r.stderr.String())
		return -1
	}
}

// exited waits for a run that should end by itself.
func (r *running) exited(t *testing.T) int {
	t.Helper()
	select {
	case code := <-r.done:
		r.done <- code
		return code
	case <-time.After(within):
		t.Fatalf("Run did not return; stderr:\n%s", r.stderr.String())
		return -1
	}
}

var listeningRE = regexp.MustCompile(`msg="http listening" addr=(\S+)`)

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRunBadUsageExits2WithOneLine(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"-concurrency", "x"},
		{"-target", "http://127.0.0.1:1"},
		{"-queues", "a=-1"},
		{"-dev", "-redis", "redis://127.0.0.1:6379"},
	} {
		var stdout, stderr bytes.Buffer
		code := Run(context.Background(), args, nil, &stdout, &stderr)
		if code != ExitUsage {
			t.Errorf("Run(%q) = %d, want %d", args, code, ExitUsage)
		}
		if lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "worker: ") {
			t.Errorf("Run(%q) stderr = %q, want one line starting with \"worker: \"", args, stderr.String())
		}
	}
}

func TestRunHelpExits0(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := Run(context.Background(), []string{"-h"}, nil, &stdout, &stderr); code != ExitOK {
		t.Errorf("Run(-h) = %d, want 0", code)
	}
	for _, want := range []string{"Usage: worker", "-target URL  [REDELAY_TARGET]", "-redis URL  [REDIS_URL]", "push mode"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, stdout.String())
		}
	}
}

func TestRunUnreachableRedisExits1(t *testing.T) {
	t.Parallel()
	r := start(t, Command{}, "-redis", "redis://:pw@"+closedAddr(t)+"/0", "-http", "off")
	if code := r.exited(t); code != ExitError {
		t.Errorf("exit code %d, want %d", code, ExitError)
	}
	out := r.stderr.String()
	if !strings.HasPrefix(out, "worker: cannot reach Redis at redis://:xxxxx@") || strings.Count(out, "\n") != 1 {
		t.Errorf("stderr = %q, want one line saying Redis cannot be reached, password hidden", out)
	}
}

func TestRunUnreachableTargetExits1(t *testing.T) {
	t.Parallel()
	mr, _ := redistest.Miniredis(t)
	target := "http://" + closedAddr(t)
	r := start(t, Command{}, "-redis", "redis://"+mr.Addr(), "-target", target, "-secret", "k", "-http", "off")
	if code := r.exited(t); code != ExitError {
		t.Errorf("exit code %d, want %d", code, ExitError)
	}
	if out := r.stderr.String(); !strings.HasPrefix(out, "worker: cannot reach target "+target) || strings.Count(out, "\n") != 1 {
		t.Errorf("stderr = %q, want one line saying the target cannot be reached", out)
	}
}

func TestRunHTTPListenerInUseExits1(t *testing.T) {
	t.Parallel()
	mr, _ := redistest.Miniredis(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r := start(t, Command{}, "-redis", "redis://"+mr.Addr(), "-http", ln.Addr().String())
	if code := r.exited(t); code != ExitError {
		t.Errorf("exit code %d, want %d", code, ExitError)
	}
	if out := r.stderr.String(); !strings.Contains(out, "worker: -http "+ln.Addr().String()) {
		t.Errorf("stderr = %q, want a line naming -http", out)
	}
}

func TestRunServesHealthStatsAndExtensions(t *testing.T) {
	t.Parallel()
	mr, rdb := redistest.Miniredis(t)
	client := taskqueue.NewClient(rdb, &taskqueue.Config{KeyPrefix: "p1"})
	ctx := context.Background()
	if _, err := client.Add(ctx, &taskqueue.Task{Path: "/later", Delay: time.Hour}, "mail"); err != nil {
		t.Fatal(err)
	}
	var mounted Runtime
	cmd := Command{Extensions: []Extension{{Mount: func(mux *http.ServeMux, rt Runtime) error {
		mounted = rt
		mux.HandleFunc("GET /v1/hello", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hello") })
		return nil
	}}}}
	r := start(t, cmd, "-redis", "redis://"+mr.Addr(), "-prefix", "p1", "-queues", "default,mail=3", "-http", "127.0.0.1:0", "-concurrency", "2")
	base := "http://" + r.stderr.waitMatch(t, listeningRE)

	if code, body := get(t, base+"/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("GET /healthz = %d %q, want 200 ok", code, body)
	}
	code, body := get(t, base+"/stats")
	if code != http.StatusOK {
		t.Fatalf("GET /stats = %d %s", code, body)
	}
	var st Stats
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("GET /stats: %v in %s", err, body)
	}
	if m, ok := st.Queues["mail"]; !ok || m.Tasks != 1 || m.OldestETA == nil || m.InFlight != 0 || m.Dead != 0 {
		t.Errorf("stats of mail = %+v, want 1 scheduled task with its ETA", st.Queues["mail"])
	}
	if d, ok := st.Queues["default"]; !ok || d.Tasks != 0 || d.OldestETA != nil {
		t.Errorf("stats of default = %+v (present %v), want an empty queue", d, ok)
	}
	for _, key := range []string{`"tasks"`, `"oldest_eta"`, `"executed_1m"`, `"in_flight"`, `"dead"`} {
		if !strings.Contains(body, key) {
			t.Errorf("GET /stats lacks %s: %s", key, body)
		}
	}
	if code, body := get(t, base+"/v1/hello"); code != http.StatusOK || body != "hello" {
		t.Errorf("GET /v1/hello (extension) = %d %q", code, body)
	}
	if mounted.Client == nil || mounted.Config.Prefix != "p1" || mounted.Logger == nil {
		t.Errorf("extension got Runtime %+v", mounted)
	}
	if resp, err := http.Post(base+"/stats", "text/plain", nil); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /stats = %v %v, want 405", resp, err)
	}

	mr.Close() // Redis goes away
	if code, body := get(t, base+"/healthz"); code != http.StatusServiceUnavailable || !strings.HasPrefix(body, "redis: ") {
		t.Errorf("GET /healthz without Redis = %d %q, want 503", code, body)
	}
	if code := r.stop(t); code != ExitOK {
		t.Errorf("exit code %d after cancel, want 0", code)
	}
	if !strings.Contains(r.stderr.String(), `msg="worker stopped"`) {
		t.Errorf("no stop log:\n%s", r.stderr.String())
	}
}

func TestRunPushModeDeliversSignedTasksAndDrains(t *testing.T) {
	t.Parallel()
	mr, rdb := redistest.Miniredis(t)
	secret := []byte("push-secret")
	got := make(chan string, 10)
	target := httptest.NewServer(taskqueue.RequireSignature(secret, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get(taskqueue.HeaderTaskName)
	})))
	defer target.Close()
	r := start(t, Command{}, "-redis", "redis://"+mr.Addr(), "-target", target.URL, "-secret", string(secret), "-http", "off", "-log-format", "json")
	client := taskqueue.NewClient(rdb, nil)
	task, err := client.Add(context.Background(), &taskqueue.Task{Path: "/work"}, "")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case name := <-got:
		if name != task.Name {
			t.Errorf("delivered %q, want %q", name, task.Name)
		}
	case <-time.After(within):
		t.Fatalf("task never delivered; stderr:\n%s", r.stderr.String())
	}
	if env := r.stdout.String(); env != "" {
		t.Errorf("stdout = %q, want nothing outside dev mode", env)
	}
	if code := r.stop(t); code != ExitOK {
		t.Errorf("exit code %d, want 0", code)
	}
	for line := range strings.SplitSeq(strings.TrimSpace(r.stderr.String()), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("-log-format json wrote a line that is not JSON: %q", line)
		}
	}
}

func TestDevModeServesAppsOnItsAddressAndGeneratesSecret(t *testing.T) {
	t.Parallel()
	var secret atomic.Pointer[[]byte]
	got := make(chan string, 10)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		taskqueue.RequireSignature(*secret.Load(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got <- r.Header.Get(taskqueue.HeaderTaskName)
		})).ServeHTTP(w, r)
	}))
	defer target.Close()
	r := start(t, Command{}, "-dev", "-dev-addr", "127.0.0.1:0", "-target", target.URL, "-http", "off")
	url := r.stdout.waitMatch(t, regexp.MustCompile(`REDIS_URL=(\S+)`))
	s := []byte(r.stdout.waitMatch(t, regexp.MustCompile(`REDELAY_SECRET=([0-9a-f]{64})\n`)))
	secret.Store(&s)
	if out := r.stdout.String(); !strings.Contains(out, "DEV MODE") || !strings.Contains(out, "NOTHING IS KEPT") {
		t.Errorf("dev mode notice does not say nothing is kept:\n%s", out)
	}

	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("printed REDIS_URL %q: %v", url, err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	task, err := taskqueue.NewClient(rdb, nil).Add(context.Background(), &taskqueue.Task{Path: "/work"}, "")
	if err != nil {
		t.Fatalf("an app cannot enqueue at the dev address: %v", err)
	}
	select {
	case name := <-got:
		if name != task.Name {
			t.Errorf("delivered %q, want %q", name, task.Name)
		}
	case <-time.After(within):
		t.Fatalf("task never delivered with the generated secret; stderr:\n%s", r.stderr.String())
	}
	if code := r.stop(t); code != ExitOK {
		t.Errorf("exit code %d, want 0", code)
	}
	if err := rdb.Ping(context.Background()).Err(); err == nil {
		t.Error("dev mode's Redis still answers after the command returned")
	}
}

func TestDevModeStartsBeforeItsAppIsUp(t *testing.T) {
	t.Parallel()
	r := start(t, Command{}, "-dev", "-dev-addr", "127.0.0.1:0", "-target", "http://"+closedAddr(t), "-http", "off")
	r.stderr.waitMatch(t, regexp.MustCompile(`msg="worker started"`))
	if !strings.Contains(r.stderr.String(), "target does not answer yet") {
		t.Errorf("no warning about the absent target:\n%s", r.stderr.String())
	}
	if code := r.stop(t); code != ExitOK {
		t.Errorf("exit code %d, want 0", code)
	}
}

func TestDevModeAddressInUseExits1(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r := start(t, Command{}, "-dev", "-dev-addr", ln.Addr().String(), "-http", "off")
	if code := r.exited(t); code != ExitError {
		t.Errorf("exit code %d, want %d", code, ExitError)
	}
	if out := r.stderr.String(); !strings.HasPrefix(out, "worker: dev mode: embedded Redis cannot listen on "+ln.Addr().String()) {
		t.Errorf("stderr = %q", out)
	}
}
