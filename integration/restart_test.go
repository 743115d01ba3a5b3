package integration

import (
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestRedisRestartWithAOFLosesNoTask crashes a redis-server of the test's own (SIGKILL, with
// appendonly yes and appendfsync always) while a worker holds running and leased tasks and
// more wait, then starts it again on the same data: every task added before the crash is
// delivered after it, the worker resumes by itself, and tasks added after the restart run
// too.
func TestRedisRestartWithAOFLosesNoTask(t *testing.T) {
	t.Parallel()
	needRealRedisTests(t)
	srv := startOwnRedis(t)
	opt, _ := redis.ParseURL(srv.url())
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	w := &world{url: srv.url(), rdb: rdb, prefix: "restart", client: newClient(rdb, "restart")}

	const secret = "restart-secret"
	const lease = 2 * time.Second
	rc := newRecorder(secret)
	target := rc.server(t, "target")
	wk := startWorker(t, "worker", w.workerArgs(target, secret, "-lease", lease.String(), "-concurrency", "8", "-http", "127.0.0.1:0")...)
	health := "http://" + wk.waitLog(t, "http listening")["addr"].(string) + "/healthz"

	first := addTasks(t, w.client, "default", 100)
	rc.waitDone(t, within, first)

	rc.holdAfter(len(first))
	before := addTasks(t, w.client, "default", 200)
	rc.wait(t, within, "8 running deliveries", func(rc *recorder) bool { return rc.running == 8 })

	srv.crash()
	if code, body := httpGet(t, health); code != http.StatusServiceUnavailable {
		t.Errorf("GET /healthz with Redis down = %d %q, want 503", code, body)
	}
	rc.release() // the running deliveries end while Redis is down: their acks must wait
	srv.start()
	if code, body := httpGet(t, health); code != http.StatusOK {
		t.Errorf("GET /healthz with Redis back = %d %q, want 200", code, body)
	}

	after := addTasks(t, w.client, "default", 100)
	rc.waitDone(t, lease+within, before)
	rc.waitDone(t, within, after)
	waitEmpty(t, w.client, "default")

	deliveries, ok := rc.snapshot()
	all := append(append(append([]string(nil), first...), before...), after...)
	t.Logf("%d tasks, %d deliveries, %d answered 200 more than once", len(all), len(deliveries), duplicates(ok, all))

	wk.signal(t, syscall.SIGTERM)
	if code := wk.exit(t, within); code != 0 {
		t.Errorf("worker exit code %d after SIGTERM, want 0", code)
	}
}

// needRealRedisTests skips t, as the tests on REDIS_URL's Redis do, when REDIS_URL is not set.
func needRealRedisTests(t *testing.T) {
	t.Helper()
	needBinaries(t)
}
