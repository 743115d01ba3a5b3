package integration

import (
	"fmt"
	"syscall"
	"testing"
)

// TestThreeWorkersRunEveryTask runs 1,500 tasks in two queues through three worker
// processes sharing one Redis, each pushing to a target server of its own: every task runs,
// and the duplicates (expected to be none without crashes) and each worker's share are
// reported.
func TestThreeWorkersRunEveryTask(t *testing.T) {
	t.Parallel()
	w := sharedRedis(t)
	const secret = "three-workers-secret"
	rc := newRecorder(secret)
	var workers []*proc
	for i := range 3 {
		name := fmt.Sprintf("worker %d", i+1)
		target := rc.server(t, name)
		workers = append(workers, startWorker(t, name, w.workerArgs(target, secret, "-queues", "default=1,mail=2", "-concurrency", "16")...))
	}

	var names []string
	for range 3 {
		names = append(names, addTasks(t, w.client, "default", 250)...)
		names = append(names, addTasks(t, w.client, "mail", 250)...)
	}
	rc.waitDone(t, within, names)
	waitEmpty(t, w.client, "default")
	waitEmpty(t, w.client, "mail")

	deliveries, ok := rc.snapshot()
	perWorker := map[string]int{}
	for _, d := range deliveries {
		perWorker[d.via]++
	}
	dups := duplicates(ok, names)
	t.Logf("%d tasks, %d deliveries, %d duplicates; deliveries per worker: %v", len(names), len(deliveries), dups, perWorker)
	if len(deliveries) != len(names)+dups {
		t.Errorf("%d deliveries for %d tasks and %d duplicates: some delivery was not answered 200", len(deliveries), len(names), dups)
	}

	for _, p := range workers {
		p.signal(t, syscall.SIGTERM)
	}
	for _, p := range workers {
		if code := p.exit(t, within); code != 0 {
			t.Errorf("%s exit code %d after SIGTERM, want 0", p.name, code)
		}
	}
}
