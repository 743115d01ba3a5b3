// Package integration runs redelay end to end: the built cmd/worker binary against a real
// redis-server, pushing to HTTP targets in the test process, through crashes, shutdowns and
// Redis restarts.
//
// The tests need a real Redis: set REDIS_URL (bash .ci/run does). Tests that restart Redis
// start a redis-server of their own, on a free port with its data in a temporary folder;
// the others share REDIS_URL's Redis under key prefixes of their own, removed at the end.
// Without REDIS_URL they skip, saying so.
package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redelay/redelay/internal/redistest"
	"github.com/redelay/redelay/taskqueue"
)

// within bounds every wait for something that should happen soon: a guard against hangs,
// not a speed assertion.
const within = 30 * time.Second

// bins holds the binaries TestMain built; empty when REDIS_URL is not set.
var bins struct {
	worker, pushapp string
	err             error
}

func TestMain(m *testing.M) {
	// go-redis reports failed dials itself; the Redis restart test provokes many.
	redis.SetLogger(discardRedisLog{})
	code := func() int {
		if os.Getenv("REDIS_URL") == "" {
			return m.Run() // every test that needs the binaries skips
		}
		dir, err := os.MkdirTemp("", "redelay-integration-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "integration:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		bins.worker, bins.err = build(dir, "worker", "github.com/redelay/redelay/cmd/worker")
		if bins.err == nil {
			bins.pushapp, bins.err = build(dir, "pushapp", "github.com/redelay/redelay/examples/pushapp")
		}
		return m.Run()
	}()
	os.Exit(code)
}

// build compiles pkg into dir, with the race detector when the tests have it.
func build(dir, name, pkg string) (string, error) {
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if p, err := exec.LookPath("go"); err == nil {
		gobin = p
	}
	out := filepath.Join(dir, name)
	args := []string{"build", "-o", out}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command(gobin, append(args, pkg)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, stderr.String())
	}
	return out, nil
}

// world is a test's view of one Redis: a client under a key prefix of the test's own.
type world struct {
	url    string
	rdb    redis.UniversalClient
	prefix string
	client *taskqueue.Client
}

// sharedRedis returns the Redis of REDIS_URL under a fresh prefix, or skips t.
func sharedRedis(t *testing.T) *world {
	t.Helper()
	rdb := redistest.Real(t)
	needBinaries(t)
	prefix := redistest.Prefix(t, rdb)
	return &world{url: os.Getenv("REDIS_URL"), rdb: rdb, prefix: prefix, client: newClient(rdb, prefix)}
}

func needBinaries(t *testing.T) {
	t.Helper()
	if bins.err != nil {
		t.Fatalf("building the binaries: %v", bins.err)
	}
	if bins.worker == "" {
		t.Skip("skipped: REDIS_URL is not set, so the binaries were not built and this end-to-end test did not run (bash .ci/run sets it)")
	}
}

func newClient(rdb redis.UniversalClient, prefix string) *taskqueue.Client {
	return taskqueue.NewClient(rdb, &taskqueue.Config{KeyPrefix: prefix, Logger: quietLogger})
}

// addTasks adds n push tasks to /work in queue, in one AddMulti, and returns their names.
func addTasks(t *testing.T, c *taskqueue.Client, queue string, n int) []string {
	t.Helper()
	tasks := make([]*taskqueue.Task, n)
	for i := range tasks {
		tasks[i] = &taskqueue.Task{Path: "/work", Payload: fmt.Appendf(nil, "task %d", i)}
	}
	added, err := c.AddMulti(context.Background(), tasks, queue)
	if err != nil {
		t.Fatalf("AddMulti: %v", err)
	}
	names := make([]string, n)
	for i, a := range added {
		names[i] = a.Name
	}
	return names
}

// stats returns queue's statistics.
func stats(t *testing.T, c *taskqueue.Client, queue string) taskqueue.QueueStatistics {
	t.Helper()
	st, err := c.QueueStats(context.Background(), []string{queue})
	if err != nil {
		t.Fatalf("QueueStats: %v", err)
	}
	return st[0]
}

// eventually polls cond until it holds, failing t after limit. Use it only where another
// process must act and nothing in the test process hears of it.
func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitEmpty waits until queue holds no task, dead or alive, and none is leased.
func waitEmpty(t *testing.T, c *taskqueue.Client, queue string) {
	t.Helper()
	var last taskqueue.QueueStatistics
	eventually(t, within, "queue "+queue+" empties", func() bool {
		last = stats(t, c, queue)
		return last.Tasks == 0 && last.InFlight == 0 && last.Dead == 0
	})
}

// proc is a process the test started; it is killed, if still running, when the test ends.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *output
	done chan struct{}
	code int
}

// startProc starts bin with args and an environment without REDIS_URL and REDELAY_*, so the
// flags alone configure it.
func startProc(t *testing.T, name, bin string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "REDIS_URL=") && !strings.HasPrefix(kv, "REDELAY_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	p := &proc{name: name, cmd: cmd, out: newOutput(), done: make(chan struct{})}
	cmd.Stdout = p.out
	cmd.Stderr = p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		_ = cmd.Wait()
		p.code = cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
		if strings.Contains(p.out.String(), "WARNING: DATA RACE") {
			t.Errorf("%s reported a data race:\n%s", name, p.out.String())
		} else if t.Failed() {
			t.Logf("output of %s:\n%s", name, tail(p.out.String(), 60))
		}
	})
	return p
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"…"}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

func (p *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %s to %s: %v", sig, p.name, err)
	}
}

// exit waits for the process to end and returns its exit code (-1 when a signal ended it).
func (p *proc) exit(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(limit):
		t.Fatalf("%s did not exit within %s", p.name, limit)
		return 0
	}
}

// kill9 ends the process with SIGKILL and waits for it.
func (p *proc) kill9(t *testing.T) {
	t.Helper()
	p.signal(t, syscall.SIGKILL)
	p.exit(t, within)
}

// waitLog waits for a JSON log record with message msg and returns it.
func (p *proc) waitLog(t *testing.T, msg string) map[string]any {
	t.Helper()
	var rec map[string]any
	p.out.wait(t, p.name+" logs "+msg, func(s string) bool {
		for line := range strings.SplitSeq(s, "\n") {
			var r map[string]any
			if json.Unmarshal([]byte(line), &r) == nil && r["msg"] == msg {
				rec = r
				return true
			}
		}
		return false
	}, p.done)
	return rec
}

// workerArgs are the flags of a push-mode worker of w delivering to target.
func (w *world) workerArgs(target, secret string, extra ...string) []string {
	return append([]string{
		"-redis", w.url, "-prefix", w.prefix, "-target", target, "-secret", secret,
		"-http", "off", "-log-format", "json",
	}, extra...)
}

// startWorker starts the worker binary with args.
func startWorker(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	return startProc(t, name, bins.worker, nil, args...)
}

// output collects a process's output; tests wait on it.
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

// wait waits until cond holds for the output so far; it fails t if exited closes first.
func (o *output) wait(t *testing.T, what string, cond func(string) bool, exited <-chan struct{}) {
	t.Helper()
	deadline := time.After(within)
	for {
		o.mu.Lock()
		ok := cond(o.buf.String())
		ch := o.changed
		o.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-exited:
			if !cond(o.String()) {
				t.Fatalf("%s: the process exited first", what)
			}
			return
		case <-deadline:
			t.Fatalf("%s: not within %s", what, within)
		}
	}
}

// freeAddr returns a loopback address nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// ownRedis is a redis-server of the test's own, with AOF persistence in a temporary folder.
type ownRedis struct {
	t    *testing.T
	bin  string
	port string
	dir  string
	proc *proc
	n    int
}

// startOwnRedis starts a redis-server with appendonly yes and appendfsync always, or skips t
// when none is installed.
func startOwnRedis(t *testing.T) *ownRedis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("skipped: no redis-server on PATH to start and restart (apt-get install redis-server)")
	}
	_, port, _ := net.SplitHostPort(freeAddr(t))
	r := &ownRedis{t: t, bin: bin, port: port, dir: t.TempDir()}
	r.start()
	return r
}

func (r *ownRedis) url() string { return "redis://127.0.0.1:" + r.port + "/0" }

// start starts the server on its port and folder, and waits until it answers PING.
func (r *ownRedis) start() {
	t := r.t
	t.Helper()
	r.n++
	r.proc = startProc(t, fmt.Sprintf("redis-server#%d", r.n), r.bin, nil,
		"--port", r.port, "--bind", "127.0.0.1", "--dir", r.dir, "--save", "",
		"--appendonly", "yes", "--appendfsync", "always", "--daemonize", "no")
	opt, _ := redis.ParseURL(r.url())
	opt.MaxRetries = -1
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	eventually(t, within, "redis-server answers PING", func() bool {
		select {
		case <-r.proc.done:
			t.Fatalf("redis-server exited:\n%s", r.proc.out.String())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return rdb.Ping(ctx).Err() == nil
	})
}

// crash ends the server with SIGKILL.
func (r *ownRedis) crash() { r.proc.kill9(r.t) }

var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

type discardRedisLog struct{}

func (discardRedisLog) Printf(context.Context, string, ...any) {}
