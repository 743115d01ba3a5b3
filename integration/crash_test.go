package integration

import (
	"syscall"
	"testing"
	"time"
)

// TestKill9UnderLoadLosesNoTask kills a worker with SIGKILL while tasks flow through it and
// while it holds running and leased tasks; a second worker then completes every task, the
// crashed one's after their 2s leases expire. A crash counts as a retry, not as a failed
// execution.
func TestKill9UnderLoadLosesNoTask(t *testing.T) {
	t.Parallel()
	w := sharedRedis(t)
	const secret = "kill-9-secret"
	const lease = 2 * time.Second
	rc := newRecorder(secret)
	target := rc.server(t, "target")
	args := w.workerArgs(target, secret, "-lease", lease.String(), "-concurrency", "8")

	names := addTasks(t, w.client, "default", 600)
	rc.holdAfter(200) // deliveries flow freely, then pile up in the handler
	a := startWorker(t, "worker A", args...)
	rc.wait(t, within, "worker A holds 8 running deliveries", func(rc *recorder) bool { return rc.running == 8 })
	held := map[string]bool{}
	deliveries, ok := rc.snapshot()
	for _, d := range deliveries {
		if ok[d.name] == 0 {
			held[d.name] = true
		}
	}

	a.kill9(t)
	// The held requests end with the dead worker's connections; only then let deliveries
	// through, so none of them is answered 200 for a worker that is gone.
	rc.wait(t, within, "the dead worker's requests end", func(rc *recorder) bool { return rc.running == 0 })
	rc.release()

	b := startWorker(t, "worker B", args...)
	rc.waitDone(t, lease+within, names)
	waitEmpty(t, w.client, "default")

	deliveries, ok = rc.snapshot()
	for name := range held {
		redelivered := false
		for _, d := range deliveries {
			if d.name != name || d.retryCount == 0 {
				continue
			}
			redelivered = true
			if d.execCount != 0 {
				t.Errorf("task %s: execution count %d after a crash, want 0 (a crash is no failed execution)", name, d.execCount)
			}
		}
		if !redelivered {
			t.Errorf("task %s, running when worker A died, was not delivered again with a retry count", name)
		}
	}
	t.Logf("%d tasks, %d deliveries, %d running at the crash, %d answered 200 more than once", len(names), len(deliveries), len(held), duplicates(ok, names))

	b.signal(t, syscall.SIGTERM)
	if code := b.exit(t, within); code != 0 {
		t.Errorf("worker B exit code %d after SIGTERM, want 0", code)
	}
}
