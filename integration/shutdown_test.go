package integration

import (
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMDrains stops a busy worker with SIGTERM: it exits 0, the tasks it was running
// finish (or, past -shutdown-timeout, go back), and every other task it had leased is back
// in the queue at once, due now, not after its 30s lease.
func TestSIGTERMDrains(t *testing.T) {
	t.Parallel()
	const secret = "sigterm-secret"
	const total = 40

	t.Run("running tasks finish", func(t *testing.T) {
		t.Parallel()
		w := sharedRedis(t)
		rc := newRecorder(secret)
		target := rc.server(t, "target")
		names := addTasks(t, w.client, "default", total)
		rc.holdAfter(0)
		wk := startWorker(t, "worker", w.workerArgs(target, secret, "-concurrency", "4", "-lease", "30s", "-shutdown-timeout", "30s")...)
		rc.wait(t, within, "4 running deliveries", func(rc *recorder) bool { return rc.running == 4 })
		running, _ := rc.snapshot()

		wk.signal(t, syscall.SIGTERM)
		wk.waitLog(t, "stopping: no new tasks; running tasks may finish")
		rc.release()
		if code := wk.exit(t, within); code != 0 {
			t.Fatalf("exit code %d after SIGTERM, want 0", code)
		}

		_, ok := rc.snapshot()
		for _, d := range running {
			if ok[d.name] == 0 {
				t.Errorf("task %s was running at SIGTERM and did not finish", d.name)
			}
		}
		finished := 0
		for _, n := range names {
			if ok[n] > 0 {
				finished++
			}
		}
		st := stats(t, w.client, "default")
		if st.InFlight != 0 || st.Tasks != total-finished || st.Dead != 0 {
			t.Errorf("after the drain: %+v with %d of %d tasks finished; want the other %d waiting, none leased",
				st, finished, total, total-finished)
		}
		if st.Tasks > 0 && st.OldestETA.After(time.Now()) {
			t.Errorf("the unfinished tasks are due at %s, after their lease, not at once", st.OldestETA)
		}
		t.Logf("%d tasks finished during the drain, %d back in the queue", finished, st.Tasks)
	})

	t.Run("past the shutdown timeout tasks go back", func(t *testing.T) {
		t.Parallel()
		w := sharedRedis(t)
		rc := newRecorder(secret)
		target := rc.server(t, "target")
		addTasks(t, w.client, "default", total)
		rc.holdAfter(0) // released only when the test ends
		wk := startWorker(t, "worker", w.workerArgs(target, secret, "-concurrency", "4", "-lease", "30s", "-shutdown-timeout", "1s")...)
		rc.wait(t, within, "4 running deliveries", func(rc *recorder) bool { return rc.running == 4 })

		wk.signal(t, syscall.SIGTERM)
		if code := wk.exit(t, within); code != 0 {
			t.Fatalf("exit code %d after SIGTERM, want 0", code)
		}
		st := stats(t, w.client, "default")
		if st.InFlight != 0 || st.Tasks != total || st.Dead != 0 || st.OldestETA.After(time.Now()) {
			t.Errorf("after the shutdown timeout: %+v; want all %d tasks back, due now, none leased", st, total)
		}
		_, ok := rc.snapshot()
		if len(ok) != 0 {
			t.Errorf("%d held deliveries were answered 200", len(ok))
		}
	})
}
