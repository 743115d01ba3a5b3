package broker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/redelay/redelay/internal/redistest"
)

// The broker conformance suite: every test runs on a fresh miniredis and, when REDIS_URL is
// set, on real Redis (whose Lua is the judge). Time is the injected now, in ms.

const (
	t0 = int64(1_700_000_000_000) // a fixed "now" in ms
	q  = "q"
)

type world struct {
	t   *testing.T
	br  *Broker
	rdb redis.UniversalClient
	ctx context.Context
}

func setup(t *testing.T, b redistest.Backend) *world {
	t.Helper()
	return &world{t: t, br: New(b.Client, b.Prefix), rdb: b.Client, ctx: context.Background()}
}

// body is a task's stored envelope in these tests: opaque bytes, binary on purpose.
func body(name string) []byte { return []byte("\x00\xff;1;" + name) }

// push and pull make tasks with names chosen by the caller, which Enqueue checks.
func push(name string, due int64) NewTask {
	return NewTask{Name: name, Envelope: body(name), Due: due, Named: true}
}

func pull(name string, due int64, tag string) NewTask {
	return NewTask{Name: name, Envelope: body(name), Due: due, Pull: true, Tag: tag, Named: true}
}

func (w *world) enqueue(tasks ...NewTask) []bool {
	w.t.Helper()
	return w.enqueueAt(t0, tasks...)
}

func (w *world) enqueueAt(now int64, tasks ...NewTask) []bool {
	w.t.Helper()
	res, err := w.br.Enqueue(w.ctx, q, now, tasks)
	if err != nil {
		w.t.Fatalf("Enqueue: %v", err)
	}
	added := make([]bool, len(res))
	for i, r := range res {
		added[i] = r.Added
	}
	return added
}

func (w *world) lease(now int64, limit int, leaseMs int64) LeaseResult {
	w.t.Helper()
	res := w.br.Lease(w.ctx, now, []LeaseRequest{{Queue: q, Limit: limit, LeaseMs: leaseMs}})
	if len(res) != 1 || res[0].Err != nil {
		w.t.Fatalf("Lease: %+v", res)
	}
	return res[0]
}

func (w *world) leasePull(now int64, limit int, leaseMs int64, mode, tag string) []Leased {
	w.t.Helper()
	l, err := w.br.LeasePull(w.ctx, q, now, limit, leaseMs, mode, tag)
	if err != nil {
		w.t.Fatalf("LeasePull: %v", err)
	}
	return l
}

func (w *world) ack(now int64, acks ...Ack) []bool {
	w.t.Helper()
	done, err := w.br.Ack(w.ctx, q, now, 3_600_000, 86_400_000, acks)
	if err != nil {
		w.t.Fatalf("Ack: %v", err)
	}
	return done
}

func (w *world) stats(now int64) Stats {
	w.t.Helper()
	st, err := w.br.Stats(w.ctx, now, []string{q})
	if err != nil {
		w.t.Fatalf("Stats: %v", err)
	}
	return st[0]
}

func (w *world) bury(now int64, name string, token int64, env []byte) bool {
	w.t.Helper()
	ok, err := w.br.Bury(w.ctx, q, now, name, token, env, nil)
	if err != nil {
		w.t.Fatalf("Bury: %v", err)
	}
	return ok
}

func (w *world) del(now int64, names ...string) []bool {
	w.t.Helper()
	ok, err := w.br.Delete(w.ctx, q, now, 3_600_000, names)
	if err != nil {
		w.t.Fatalf("Delete: %v", err)
	}
	return ok
}

// woken reports whether the wake-up list holds an element, and empties it as a blocked
// worker's BLPOP would.
func (w *world) woken() bool {
	w.t.Helper()
	n, err := w.rdb.Del(w.ctx, w.br.WakeKey(q)).Result()
	if err != nil {
		w.t.Fatalf("DEL wake: %v", err)
	}
	return n == 1
}

func names(ls []Leased) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Name
	}
	return out
}

func wantNames(t *testing.T, what string, got []Leased, want ...string) {
	t.Helper()
	if g := names(got); !slices.Equal(g, want) && !(len(g) == 0 && len(want) == 0) {
		t.Fatalf("%s: leased %q, want %q", what, g, want)
	}
}

func wantFlags(t *testing.T, what string, got []bool, want ...bool) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

func TestEnqueueBatch(t *testing.T) {
	t.Parallel()
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		w := setup(t, b)
		added := w.enqueue(push("a", t0), push("b", t0+1000), pull("c", t0, ""), pull("d", t0, "red"), push("a", t0))
		wantFlags(t, "added", added, true, true, true, true, false)

		st := w.stats(t0)
		if st.Tasks != 4 || st.Oldest != t0 || st.InFlight != 0 || st.Dead != 0 {
			t.Fatalf("stats = %+v, want 4 tasks, oldest %d", st, t0)
		}
		// A name is taken in the whole queue, push and pull alike.
		wantFlags(t, "added again", w.enqueue(push("c", t0), pull("b", t0, ""), push("e", t0)), false, false, true)

		got := w.lease(t0, 10, 30_000)
		wantNames(t, "lease", got.Tasks, "a", "e")
		if !bytes.Equal(got.Tasks[0].Envelope, body("a")) {
			t.Errorf("envelope = %q, want %q (stored bytes unchanged)", got.Tasks[0].Envelope, body("a"))
		}
		pl := w.leasePull(t0, 10, 30_000, PullAny, "")
		wantNames(t, "lease pull", pl, "c", "d")
		if pl[1].Tag != "red" || pl[0].Tag != "" {
			t.Errorf("tags = %q, %q; want \"\", \"red\"", pl[0].Tag, pl[1].Tag)
		}
	})
}

// TestEnqueueReadyBatch covers the batches of fresh push tasks due now, which skip every
// check: they are leased in order with their envelopes, wake the workers, and count.
func TestEnqueueReadyBatch(t *testing.T) {
	t.Parallel()
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		w := setup(t, b)
		fresh := func(name string, due int64) NewTask {
			return NewTask{Name: name, Envelope: body(name), Due: due}
		}
		wantFlags(t, "added", w.enqueue(fresh("r1", t0-5), fresh("r2", t0-5), fresh("r3", t0)), true, true, true)
		if !w.woken() {
			t.Error("a batch of due tasks did not wake the workers")
		}
		// Out of due order: the batch is sorted on the way in.
		wantFlags(t, "added", w.enqueue(fresh("r5", t0), fresh("r4", t0-1)), true, true)
		if st := w.stats(t0); st.Tasks != 5 || st.Oldest != t0-5 {
			t.Fatalf("stats = %+v, want 5 tasks, oldest %d", st, t0-5)
		}
		got := w.lease(t0, 10, 30_000)
		wantNames(t, "lease", got.Tasks, "r1", "r2", "r3", "r4", "r5")
		for _, l := range got.Tasks {
			if !bytes.Equal(l.Envelope, body(l.Name)) || l.Token != 1 {
				t.Errorf("%s: envelope %q token %d, want %q token 1", l.Name, l.Envelope, l.Token, body(l.Name))
			}
		}
		wantFlags(t, "acked", w.ack(t0, Ack{Name: "r1", Token: 1}), true)
	})
}

func TestEnqueueTombstonedName(t *testing.T) {
	t.Parallel()
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		w := setup(t, b)
		w.enqueue(push("a", t0), push("b", t0))
		wantFlags(t, "delete", w.del(t0, "a"), true)
		// Deleted at t0 with a tombstone of 1 h: taken until t0+1h.
		wantFlags(t, "re-add while tombstoned", w.enqueueAt(t0+3_599_999, push("a", t0)), false)
		wantFlags(t, "re-add after the tombstone", w.enqueueAt(t0+3_600_000, push("a", t0)), true)

		// An ack with Tombstone keeps the name; without, it frees it. Due tasks are leased
		// in the order they became due: the re-added a after b.
		l := w.lease(t0, 10, 1000)
		wantNames(t, "lease", l.Tasks, "b", "a")
		wantFlags(t, "ack", w.ack(t0, Ack{Name: "a", Token: 1, Tombstone: true}, Ack{Name: "b", Token: 1}), true, true)
		wantFlags(t, "re-add acked", w.enqueue(push("a", t0), push("b", t0)), false, true)
	})
}

// TestAckMixedBatch acks, in one call, tasks with and without records, tombstones and
// callbacks, one of them stale: each gets exactly its own.
func TestAckMixedBatch(t *testing.T) {
	t.Parallel()
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		w := setup(t, b)
		w.enqueue(push("plain", t0), push("named", t0), push("called", t0), push("stale", t0))
		wantNames(t, "lease", w.lease(t0, 10, 30_000).Tasks, "plain", "named", "called", "stale")
		cb := func(name string) *NewTask {
			return &NewTask{Name: name + "-callback", Envelope: body(name + "-callback"), Due: t0}
		}
		got := w.ack(t0,
			Ack{Name: "plain", Token: 1, Record: []byte("r-plain")},
			Ack{Name: "named", Token: 1, Tombstone: true},
			Ack{Name: "called", Token: 1, Record: []byte("r-called"), Callback: cb("called")},
			Ack{Name: "stale", Token: 9, Record: []byte("r-stale"), Callback: cb("stale"), Tombstone: true})
		wantFlags(t, "ack", got, true, true, true, false)

		for name, want := range map[string]string{"plain": "r-plain", "called": "r-called", "named": ""} {
			st, err := w.br.Status(w.ctx, q, t0+1, name, 86_400_000)
			if err != nil {
				t.Fatal(err)
			}
			if want == "" {
				if st.Where == InDone {
					t.Errorf("%s: a record was kept, none given", name)
				}
				continue
			}
			if st.Where != InDone || string(st.Record) != want {
				t.Errorf("%s: status %q record %q, want done with %q", name, st.Where, st.Record, want)
			}
		}
		if st, _ := w.br.Status(w.ctx, q, t0+1, "stale", 86_400_000); st.Where != InTasks {
			t.Errorf("stale ack: task is %q, want still leased", st.Where)
		}
		// Only the acked named task keeps its name; the others are free again.
		wantFlags(t, "re-add", w.enqueue(push("plain", t0+1), push("named", t0+1)), true, false)
		// The acked task's callback is due; the stale ack's is not there.
		l := w.lease(t0+1, 10, 30_000)
		wantNames(t, "lease after the acks", l.Tasks, "called-callback", "plain")
		if !bytes.Equal(l.Tasks[0].Envelope, body("called-callback")) {
			t.Errorf("callback envelope = %q", l.Tasks[0].Envelope)
		}
	})
}

func TestEnqueueDeadName(t *testing.T) {
	t.Parallel()
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		w := setup(t, b)
		w.enqueue(push("a", t0))
		if !w.bury(t0, "a", 0, []byte("dead")) {
			t.Fatal("Bury = false")
		}
		wantFlags(t, "re-add a dead name", w.enqueue(push("a", t0)), false)
	})
}

func TestLeaseBatchAndLimit(t *testing.T) {
	t.Parallel()
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		w := setup(t, b)
		w.enqueue(push("e", t0-1), push("d", t0-2), push("c", t0-3), push("b", t0-4), push("a", t0-5), push("later", t0+5000))

		got := w.lease(t0, 3, 30_000)
		wantNames(t, "first lease", got.Tasks, "a", "b", "c") // earliest due first
		for _, l := range got.Tasks {
			if l.Token != 1 {
				t.Errorf("%s token = %d, want 1", l.Name, l.Token)
			}
			if !bytes.Equal(l.Envelope, body(l.Name)) {
				t.Errorf("%s envelope = %q", l.Name, l.Envelope)
			}
		}
		if got.Next != t0-2 {
			t.Errorf("Next = %d, want %d (d is still due)", got.Next, t0-2)
		}
		got = w.lease(t0, 3, 30_000)
		wantNames(t, "second lease", got.Tasks, "d", "e")
		if got.Next != t0+5000 {
			t.Errorf("Next = %d, want %d (the delayed task)", got.Next, t0+5000)
		}
		got = w.lease(t0, 3, 30_000)
		wantNames(t, "third lease", got.Tasks)
		if got.Next != t0+5000 {
			t.Errorf("Next = %d, want %d", got.Next, t0+5000)
		}
		// Due to the millisecond.
		wantNames(t, "1 ms early", w.lease(t0+4999, 3, 30_000).Tasks)
		got = w.lease(t0+5000, 3, 30_000)
		wantNames(t, "at its due time", got.Tasks, "later")
		if got.Next != t0+30_000 {
			t.Errorf("Next = %d, want %d (the first lease's expiry)", got.Next, t0+30_000)
		}
		if st := w.stats(t0 + 5000); st.Tasks != 6 || st.InFlight != 6 {
			t.Errorf("stats = %+v, want 6 tasks, 6 in flight", st)
		}
	})
}

func TestLeaseEmptyQueue(t *testing.T) {
	t.Parallel()
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		w := setup(t, b)
		got := w.lease(t0, 10, 30_000)
		if len(got.Tasks) != 0 || got.Next != 0 {
			t.Fatalf("lease of an empty queue = %+v, want nothing and Next 0", got)
		}
		w.enqueue(pull("p", t0, ""))
		if got := w.lease(t0, 10, 30_000); len(got.Tasks) != 0 || got.Next != 0 {
			t.Fatalf("push lease found a pull task: %+v", got)
		}
	})
}

func TestLeaseSeveralQueues(t *testing.T) {
	t.Parallel()
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		w := setup(t, b)
		if _, err := w.br.Enqueue(w.ctx, "other", t0, []NewTask{push("x", t0)}); err != nil {
			t.Fatal(err)
		}
		w.enqueue(push("a", t0))
		res := w.br.Lease(w.ctx, t0, []LeaseRequest{{Queue: q, Limit: 5, LeaseMs: 1000}, {Queue: "other", Limit: 5, LeaseMs: 1000}, {Queue: "empty", Limit: 5, LeaseMs: 1000}})
		if len(res) != 3 {
			t.Fatalf("got %d results, want 3", len(res))
		}
		for i, want := range [][]string{{"a"}, {"x"}, nil} {
			if res[i].Err != nil {
				t.Fatalf("result %d: %v", i, res[i].Err)
			}
			wantNames(t, fmt.Sprint("queue ", i), res[i].Tasks, want...)
		}
	})
}

func TestLeaseExpiryRecoversTask(t *testing.T) {
	t.Parallel()
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		w := setup(t, b)
		w.enqueue(push("a", t0))
		first := w.lease(t0, 1, 30_000)
		wantNames(t, "lease", first.Tasks, "a")
		if first.Next != t0+30_000 {
			t.Errorf("Next = %d, want the lease expiry %d", first.Next, t0+30_000)
		}
		wantNames(t, "while leased", w.lease(t0+29_999, 1, 30_000).Tasks)
		if st := w.stats(t0 + 29_999); st.InFlight != 1 {
			t.Errorf("in flight = %d, want 1", st.InFlight)
		}
		// The worker died: at the lease expiry the task is due again, with a new token.
		if st := w.stats(t0 + 30_000); st.InFlight != 0 || st.Tasks != 1 {
			t.Errorf("stats after expiry = %+v, want 1 task, 0 in flight", st)
		}
		again := w.lease(t0+30_000, 1, 30_000)
		wantNames(t, "after expiry", again.Tasks, "a")
		if again.Tasks[0].Token != 2 {
			t.Fatalf("token = %d, want 2", again.Tasks[0].Token)
		}
		// The dead worker's late ack changes nothing; the new holder's ack removes it.
		wantFlags(t, "stale ack", w.ack(t0+30_001, Ack{Name: "a", Token: 1}), false)
		if st := w.stats(t0 + 30_001); st.Tasks != 1 || st.InFlight != 1 {
			t.Errorf("stats after stale ack = %+v, want the task still leased", st)
		}
		wantFlags(t, "ack", w.ack(t0+30_001, Ack{Name: "a", Token: 2}), true)
		if st := w.stats(t0 + 30_001); st.Tasks != 0 || st.InFlight != 0 || st.Executed != 1 {
			t.Errorf("stats after ack = %+v, want empty, 1 executed", st)
		}
	})
}

func TestAck(t *testing.T) {
	t.Parallel()
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		w := setup(t, b)
		w.enqueue(push("a", t0), push("b", t0), push("c", t0))
		w.lease(t0, 3, 30_000)
		got := w.ack(t0+1, Ack{Name: "a", Token: 1}, Ack{Name: "b", Token: 7}, Ack{Name: "nope", Token: 1}, Ack{Name: "c", Token: 1})
		wantFlags(t, "ack", got, true, false, false, true)
		wantFlags(t, "ack twice", w.ack(t0+1, Ack{Name: "a", Token: 1}), false)
		st := w.stats(t0 + 1)
		if st.Tasks != 1 || st.InFlight != 1 || st.Executed != 2 {
			t.Fatalf("stats = %+v, want b left leased, 2 executed", st)
		}
		for name, want := range map[string]bool{"a": false, "b": true, "c": false} {
			if got, _ := w.rdb.HExists(w.ctx, w.br.keys(q).tasks, name).Result(); got != want {
				t.Errorf("task %s stored: %v, want %v", name, got, want)
			}
		}
		// An empty batch is fine.
		if got := w.ack(t0 + 1); len(got) != 0 {
			t.Errorf("empty ack = %v", got)
		}
	})
}

func TestAckMulti(t *testing.T) {
	t.Parallel()
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		w := setup(t, b)
		w.enqueue(push("a", t0))
		if _, err := w.br.Enqueue(w.ctx, "other", t0, []NewTask{push("x", t0)}); err != nil {
			t.Fatal(err)
		}
		w.br.Lease(w.ctx, t0, []LeaseRequest{{Queue: q, Limit: 1, LeaseMs: 1000}, {Queue: "other", Limit: 1, LeaseMs: 1000}})
		errs := w.br.AckMulti(w.ctx, t0, 0, 0, []AckBatch{{Queue: q, Acks: []Ack{{Name: "a", Token: 1}}}, {Queue: "other", Acks: []Ack{{Name: "x", Token: 1}}}})
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("AckMulti: %v", errs)
		}
		st, err := w.br.Stats(w.ctx, t0, []string{q, "other"})
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range st {
			if s.Tasks != 0 || s.Executed != 1 {
				t.Errorf("queue %d stats = %+v, want empty, 1 executed", i, s)
			}
		}
	})
}

func TestRetry(t *testing.T) {
	t.Parallel()
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		w := setup(t, b)
		w.enqueue(push("a", t0))
		w.lease(t0, 1, 30_000)
		ok, err := w.br.Retry(w.ctx, q, t0+10, "a", 2, []byte("stale"), t0+10)
		if err != nil || ok {
			t.Fatalf("Retry with a stale token = %v, %v; want false", ok, err)
		}
		wantNames(t, "after stale retry", w.lease(t0+10, 1, 30_000).Tasks)

		ok, err = w.br.Retry(w.ctx, q, t0+10, "a", 1, []byte("attempt 2"), t0+5010)
		if err != nil || !ok {
			t.Fatalf("Retry = %v, %v; want true", ok, err)
		}
		if st := w.stats(t0 + 10); st.InFlight != 0 || st.Tasks != 1 || st.Oldest != t0+5010 {
			t.Errorf("stats after retry = %+v, want 1 task due %d, none in flight", st, t0+5010)
		}
		wantNames(t, "before the new due time", w.lease(t0+5009, 1, 30_000).Tasks)
		got := w.lease(t0+5010, 1, 30_000)
		wantNames(t, "at the new due time", got.Tasks, "a")
		if l := got.Tasks[0]; l.Token != 2 || string(l.Envelope) != "attempt 2" {
			t.Errorf("leased %+v, want token 2 and the new envelope", l)
		}
		// The retried attempt's old token no longer acks.
		wantFlags(t, "old token", w.ack(t0+5011, Ack{Name: "a", Token: 1}), false)
		// Retry of an unknown task.
		if ok, err := w.br.Retry(w.ctx, q, t0, "nope", 1, nil, t0); ok || err != nil {
			t.Errorf("Retry of an unknown task = %v, %v", ok, err)
		}
	})
}

func TestBury(t *testing.T) {
	t.Parallel()
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		w := setup(t, b)
		w.enqueue(push("a", t0), pull("p", t0, "red"))
		w.lease(t0, 1, 30_000)
		if w.bury(t0+1, "a", 2, []byte("final")) {
			t.Fatal("Bury with a stale token = true")
		}
		if !w.bury(t0+1, "a", 1, []byte("final")) {
			t.Fatal("Bury = false")
		}
		if w.bury(t0+1, "a", 1, []byte("final")) {
			t.Fatal("Bury of a dead task = true")
		}
		if !w.bury(t0+2, "p", 0, []byte("pull final")) { // token 0: no lease check
			t.Fatal("Bury of a waiting pull task = false")
		}
		st := w.stats(t0 + 2)
		if st.Tasks != 0 || st.InFlight != 0 || st.Dead != 2 {
			t.Fatalf("stats = %+v, want 0 tasks, 2 dead", st)
		}
		if n, _ := w.rdb.HLen(w.ctx, w.br.keys(q).tags).Result(); n != 0 {
			t.Errorf("tags hash keeps %d entries for dead tasks", n)
		}
		dead, err := w.br.DeadList(w.ctx, q, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		want := []DeadTask{{Name: "p", Died: t0 + 2, Envelope: []byte("pull final")}, {Name: "a", Died: t0 + 1, Envelope: []byte("final")}}
		if fmt.Sprint(dead) != fmt.Sprint(want) {
			t.Fatalf("DeadList = %+v, want %+v", dead, want)
		}
		wantNames(t, "lease after bury", w.lease(t0+60_000, 5, 1000).Tasks)
	})
}

func TestExtendAndRelease(t *testing.T) {
	t.Parallel()
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		w := setup(t, b)
		w.enqueue(push("a", t0), push("b", t0))
		w.lease(t0, 2, 30_000)
		w.woken()
		ok, err := w.br.Extend(w.ctx, q, t0+20_000, 30_000, []Lease{{"a", 1}, {"b", 2}, {"nope", 1}})
		if err != nil {
			t.Fatal(err)
		}
		wantFlags(t, "extend", ok, true, false, false)
		if w.woken() {
			t.Error("extending a lease woke the workers")
		}
		got := w.lease(t0+30_000, 2, 30_000) // b's lease ran out, a's was extended
		wantNames(t, "at the old expiry", got.Tasks, "b")
		if got.Next != t0+50_000 {
			t.Errorf("Next = %d, want a's new expiry %d", got.Next, t0+50_000)
		}
		wantNames(t, "at the new expiry", w.lease(t0+50_000, 2, 30_000).Tasks, "a")

		// Lease 0 releases: due at once, not in flight, workers woken.
		ok, err = w.br.Extend(w.ctx, q, t0+50_001, 0, []Lease{{"a", 2}})
		if err != nil {
			t.Fatal(err)
		}
		wantFlags(t, "release", ok, true)
		if !w.woken() {
			t.Error("releasing a lease did not wake the workers")
		}
		if st := w.stats(t0 + 50_001); st.InFlight != 1 { // b only
			t.Errorf("in flight = %d, want 1", st.InFlight)
		}
		got = w.lease(t0+50_001, 2, 30_000)
		wantNames(t, "after release", got.Tasks, "a")
		if got.Tasks[0].Token != 3 {
			t.Errorf("token = %d, want 3", got.Tasks[0].Token)
		}
	})
}

// TestLeaseEndsWithRetry checks that a retry ends the lease: an extension or release that
// raced with it (a worker's lease extender) does not move the retried task's due time.
func TestLeaseEndsWithRetry(t *testing.T) {
	t.Parallel()
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		w := setup(t, b)
		w.enqueue(push("a", t0), push("b", t0))
		w.lease(t0, 2, 30_000)
		for _, name := range []string{"a", "b"} {
			if ok, err := w.br.Retry(w.ctx, q, t0+10, name, 1, []byte("r"), t0+3_600_000); !ok || err != nil {
				t.Fatalf("Retry(%s) = %v, %v", name, ok, err)
			}
		}
		w.woken()
		ok, err := w.br.Extend(w.ctx, q, t0+20, 30_000, []Lease{{"a", 1}})
		if err != nil {
			t.Fatal(err)
		}
		wantFlags(t, "extend after retry", ok, false)
		ok, err = w.br.Extend(w.ctx, q, t0+20, 0, []Lease{{"b", 1}})
		if err != nil {
			t.Fatal(err)
		}
		wantFlags(t, "release after retry", ok, false)
		if w.woken() {
			t.Error("a stale release woke the workers")
		}
		if st := w.stats(t0 + 20); st.InFlight != 0 || st.Oldest != t0+3_600_000 {
			t.Fatalf("stats = %+v, want nothing in flight, due at the retry time %d", st, t0+3_600_000)
		}
		wantNames(t, "lease before the retry time", w.lease(t0+3_599_999, 2, 1000).Tasks)
	})
}

func TestLeasePull(t *testing.T) {
	t.Parallel()
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		w := setup(t, b)
		w.enqueue(pull("a", t0-5, "red"), pull("b", t0-4, ""), pull("c", t0-3, "blue"), pull("d", t0-2, "red"), pull("e", t0-1, ""), pull("f", t0+1000, "red"), push("s", t0))

		wantNames(t, "any, limit 2", w.leasePull(t0, 2, 60_000, PullAny, ""), "a", "b")
		got := w.leasePull(t0, 10, 60_000, PullTag, "red")
		wantNames(t, "tag red", got, "d") // a is leased, f is not due
		if got[0].Tag != "red" || got[0].Token != 1 || !bytes.Equal(got[0].Envelope, body("d")) {
			t.Errorf("leased %+v", got[0])
		}
		// Earliest due is c, tagged blue.
		wantNames(t, "earliest tag", w.leasePull(t0, 10, 60_000, PullEarliestTag, ""), "c")
		// Now the earliest due is e, untagged: untagged tasks group together.
		wantNames(t, "earliest tag untagged", w.leasePull(t0, 10, 60_000, PullEarliestTag, ""), "e")
		wantNames(t, "nothing due", w.leasePull(t0, 10, 60_000, PullEarliestTag, ""))
		wantNames(t, "nothing due, any", w.leasePull(t0, 10, 60_000, PullAny, ""))

		// Leases end: everything is visible again, leased a second time.
		got = w.leasePull(t0+60_000, 10, 60_000, PullAny, "")
		wantNames(t, "after the leases", got, "f", "a", "b", "c", "d", "e") // f was due first
		for _, l := range got {
			if want := int64(2); l.Name != "f" && l.Token != want {
				t.Errorf("%s token = %d, want %d", l.Name, l.Token, want)
			}
		}
		// The push task is never leased as a pull task.
		if st := w.stats(t0 + 60_000); st.Tasks != 7 || st.InFlight != 0 {
			t.Errorf("stats = %+v, want 7 tasks, no push task in flight", st)
		}
	})
}

func TestLeasePullTagScansPastOnePage(t *testing.T) {
	t.Parallel()
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		w := setup(t, b)
		var tasks []NewTask
		for i := range 450 {
			tasks = append(tasks, pull(fmt.Sprintf("n%03d", i), t0-1000+int64(i), "noise"))
		}
		tasks = append(tasks, pull("x", t0, "x"), pull("y", t0, "x"))
		w.enqueue(tasks...)
		wantNames(t, "tag x", w.leasePull(t0, 1, 1000, PullTag, "x"), "x")
		wantNames(t, "tag x again", w.leasePull(t0, 5, 1000, PullTag, "x"), "y")
	})
}

func TestModifyLease(t *testing.T) {
	t.Parallel()
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		w := setup(t, b)
		w.enqueue(pull("a", t0, ""), push("s", t0))
		w.leasePull(t0, 1, 60_000, PullAny, "")
		held := t0 + 60_000

		exp, err := w.br.ModifyLease(w.ctx, q, t0+1000, "a", held, 120_000)
		if err != nil || exp != t0+121_000 {
			t.Fatalf("ModifyLease = %d, %v; want %d", exp, err, t0+121_000)
		}
		if _, err := w.br.ModifyLease(w.ctx, q, t0+2000, "a", held, 120_000); !errors.Is(err, ErrLeaseExpired) {
			t.Fatalf("ModifyLease with a stale expiry: %v, want ErrLeaseExpired", err)
		}
		wantNames(t, "at the old expiry", w.leasePull(held, 1, 1000, PullAny, ""))
		if _, err := w.br.ModifyLease(w.ctx, q, t0+121_000, "a", t0+121_000, 1000); !errors.Is(err, ErrLeaseExpired) {
			t.Fatalf("ModifyLease of an expired lease: %v, want ErrLeaseExpired", err)
		}
		// A waiting task was never leased: its ETA is no lease.
		w.enqueue(pull("later", t0+600_000, ""))
		if _, err := w.br.ModifyLease(w.ctx, q, t0, "later", t0+600_000, 1000); !errors.Is(err, ErrLeaseExpired) {
			t.Fatalf("ModifyLease of a task never leased: %v, want ErrLeaseExpired", err)
		}
		for _, name := range []string{"nope", "s"} {
			if _, err := w.br.ModifyLease(w.ctx, q, t0, name, t0, 1000); !errors.Is(err, ErrNotFound) {
				t.Fatalf("ModifyLease of %q: %v, want ErrNotFound", name, err)
			}
		}
		// Lease 0: leasable at once.
		got := w.leasePull(t0+121_000, 1, 60_000, PullAny, "")
		wantNames(t, "re-lease", got, "a")
		if exp, err = w.br.ModifyLease(w.ctx, q, t0+122_000, "a", t0+181_000, 0); err != nil || exp != t0+122_000 {
			t.Fatalf("ModifyLease 0 = %d, %v", exp, err)
		}
		got = w.leasePull(t0+122_000, 1, 60_000, PullAny, "")
		wantNames(t, "after release", got, "a")
		if got[0].Token != 3 {
			t.Errorf("token = %d, want 3", got[0].Token)
		}
	})
}

func TestDelete(t *testing.T) {
	t.Parallel()
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		w := setup(t, b)
		w.enqueue(push("waiting", t0+1000), push("leased", t0), pull("pulled", t0, "red"), push("dead", t0+2000))
		w.lease(t0, 1, 30_000)
		w.leasePull(t0, 1, 30_000, PullAny, "")
		w.bury(t0, "dead", 0, []byte("x"))

		wantFlags(t, "delete", w.del(t0, "waiting", "leased", "nope", "pulled", "dead"), true, true, false, true, true)
		wantFlags(t, "delete again", w.del(t0, "waiting", "dead"), false, false)
		if st := w.stats(t0); st != (Stats{}) {
			t.Fatalf("stats after delete = %+v, want zero", st)
		}
		for _, key := range []string{w.br.keys(q).tags, w.br.keys(q).dead, w.br.keys(q).deadIdx} {
			if n, _ := w.rdb.Exists(w.ctx, key).Result(); n != 0 {
				t.Errorf("key %s is left after deleting every task", key)
			}
		}
		w.onlyKeepers()
		wantFlags(t, "leased task's ack", w.ack(t0, Ack{Name: "leased", Token: 1}), false)
		// Every deleted name is tombstoned, the unknown one is not.
		wantFlags(t, "re-add", w.enqueue(push("waiting", t0), push("leased", t0), push("pulled", t0), push("dead", t0), push("nope", t0)), false, false, false, false, true)
	})
}

// TestTombstonesExpire checks that tombstones do not pile up in a queue that only deletes
// (a pull queue: tasks are leased, then deleted, never acked).
func TestTombstonesExpire(t *testing.T) {
	t.Parallel()
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		w := setup(t, b)
		for i := range 50 {
			name := fmt.Sprint("p", i)
			w.enqueue(pull(name, t0, ""))
			wantFlags(t, "delete", w.del(t0, name), true)
		}
		w.enqueueAt(t0+3_600_000, pull("last", t0, ""))
		wantFlags(t, "delete", w.del(t0+3_600_000, "last"), true)
		if n, _ := w.rdb.ZCard(w.ctx, w.br.keys(q).tombs).Result(); n != 1 {
			t.Fatalf("%d tombstones kept, want only the one still running", n)
		}
		wantFlags(t, "re-add a live tombstone", w.enqueueAt(t0+3_600_000, pull("last", t0, "")), false)
	})
}

func TestPurge(t *testing.T) {
	t.Parallel()
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		w := setup(t, b)
		if err := w.br.Purge(w.ctx, q, t0, 86_400_000); err != nil {
			t.Fatalf("Purge of an empty queue: %v", err)
		}
		w.enqueue(push("a", t0), push("b", t0+1000), pull("p", t0, "red"), push("named", t0), push("dead", t0))
		w.lease(t0, 1, 1000)
		w.bury(t0, "dead", 0, []byte("x"))
		w.del(t0, "named")
		if err := w.br.Purge(w.ctx, q, t0, 86_400_000); err != nil {
			t.Fatal(err)
		}
		if st := w.stats(t0); st != (Stats{}) {
			t.Fatalf("stats after purge = %+v, want zero", st)
		}
		wantNames(t, "lease after purge", w.lease(t0+10_000, 10, 1000).Tasks)
		// Tombstones stay.
		wantFlags(t, "re-add", w.enqueue(push("named", t0), push("a", t0)), false, true)
	})
}

func TestStats(t *testing.T) {
	t.Parallel()
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		w := setup(t, b)
		w.enqueue(push("a", t0+500), push("b", t0+1000), pull("p", t0+200, ""), push("c", t0+2000))
		st := w.stats(t0)
		if want := (Stats{Tasks: 4, Oldest: t0 + 200}); st != want {
			t.Fatalf("stats = %+v, want %+v", st, want)
		}
		w.lease(t0+1000, 1, 30_000) // a
		w.lease(t0+1000, 1, 500)    // b, lease ends at t0+1500
		w.ack(t0+1001, Ack{Name: "a", Token: 1})
		w.bury(t0+1001, "c", 0, []byte("x"))
		if st, want := w.stats(t0+1001), (Stats{Tasks: 2, Oldest: t0 + 200, InFlight: 1, Executed: 1, Dead: 1}); st != want {
			t.Fatalf("stats = %+v, want %+v", st, want)
		}
		// b's lease ran out; a's ack is more than a minute old.
		if st, want := w.stats(t0+1001+61_000), (Stats{Tasks: 2, Oldest: t0 + 200, Dead: 1}); st != want {
			t.Fatalf("stats a minute later = %+v, want %+v", st, want)
		}
		// Several queues in order; an unknown queue is empty.
		all, err := w.br.Stats(w.ctx, t0, []string{"unknown", q})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 2 || all[0] != (Stats{}) || all[1].Tasks != 2 {
			t.Fatalf("Stats of two queues = %+v", all)
		}
	})
}

func TestDeadListAndGet(t *testing.T) {
	t.Parallel()
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		w := setup(t, b)
		for i, name := range []string{"a", "b", "c"} {
			w.enqueue(push(name, t0))
			w.bury(t0+int64(i), name, 0, []byte("dead "+name))
		}
		for _, tc := range []struct {
			offset, count int
			want          []string
		}{{0, 10, []string{"c", "b", "a"}}, {0, 2, []string{"c", "b"}}, {2, 2, []string{"a"}}, {3, 2, nil}} {
			list, err := w.br.DeadList(w.ctx, q, tc.offset, tc.count)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range list {
				got = append(got, d.Name)
				if string(d.Envelope) != "dead "+d.Name {
					t.Errorf("%s envelope = %q", d.Name, d.Envelope)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("DeadList(%d, %d) = %q, want %q", tc.offset, tc.count, got, tc.want)
			}
		}
		envs, err := w.br.DeadGet(w.ctx, q, []string{"b", "nope", "a"})
		if err != nil {
			t.Fatal(err)
		}
		if len(envs) != 3 || string(envs[0]) != "dead b" || envs[1] != nil || string(envs[2]) != "dead a" {
			t.Fatalf("DeadGet = %q", envs)
		}
	})
}

func TestRequeue(t *testing.T) {
	t.Parallel()
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		w := setup(t, b)
		w.enqueue(push("a", t0), pull("p", t0, "red"), push("alive", t0))
		w.lease(t0, 1, 1000)
		w.bury(t0, "a", 1, []byte("dead a"))
		w.bury(t0, "p", 0, []byte("dead p"))
		w.woken()

		done, err := w.br.Requeue(w.ctx, q, t0+5000, []Requeued{
			{Name: "a", Envelope: []byte("fresh a")},
			{Name: "alive", Envelope: []byte("x")},
			{Name: "p", Envelope: []byte("fresh p"), Pull: true, Tag: "red"},
		})
		if err != nil {
			t.Fatal(err)
		}
		wantFlags(t, "requeue", done, true, false, true)
		if !w.woken() {
			t.Error("requeueing a push task did not wake the workers")
		}
		if st := w.stats(t0 + 5000); st.Dead != 0 || st.Tasks != 3 {
			t.Fatalf("stats = %+v, want 3 tasks, 0 dead", st)
		}
		got := w.lease(t0+5000, 10, 1000)
		wantNames(t, "lease", got.Tasks, "alive", "a") // alive was due at t0, a is due now
		if l := got.Tasks[1]; l.Token != 1 || string(l.Envelope) != "fresh a" {
			t.Errorf("requeued task leased as %+v, want token 1 and the fresh envelope", l)
		}
		// The "alive" task was not touched by the failed requeue.
		if string(got.Tasks[0].Envelope) != string(body("alive")) {
			t.Errorf("alive's envelope = %q", got.Tasks[0].Envelope)
		}
		pl := w.leasePull(t0+5000, 10, 1000, PullTag, "red")
		wantNames(t, "pull by tag", pl, "p")
		if pl[0].Tag != "red" || string(pl[0].Envelope) != "fresh p" {
			t.Errorf("requeued pull task leased as %+v", pl[0])
		}
	})
}

func TestWake(t *testing.T) {
	t.Parallel()
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		w := setup(t, b)
		w.enqueue(push("later", t0+10_000))
		if !w.woken() {
			t.Error("first task of an empty queue did not wake the workers")
		}
		w.enqueue(push("later2", t0+20_000))
		if w.woken() {
			t.Error("a task due after the earliest one woke the workers")
		}
		w.enqueue(push("sooner", t0+5_000))
		if !w.woken() {
			t.Error("a task due before the earliest one did not wake the workers")
		}
		w.enqueue(pull("p", t0, ""))
		if w.woken() {
			t.Error("a pull task woke the push workers")
		}
		w.enqueue(push("now1", t0), push("now2", t0))
		if !w.woken() {
			t.Error("a due task did not wake the workers")
		}
		n, _ := w.rdb.LLen(w.ctx, w.br.WakeKey(q)).Result()
		if n != 0 {
			t.Fatalf("wake list holds %d elements", n)
		}
		w.enqueue(push("now3", t0))
		w.enqueue(push("now4", t0))
		if n, _ := w.rdb.LLen(w.ctx, w.br.WakeKey(q)).Result(); n != 1 {
			t.Errorf("wake list holds %d elements after two wake-ups, want 1", n)
		}
		w.woken()

		// A lease that leaves due tasks behind wakes the other workers; one that takes
		// them all does not.
		w.lease(t0, 1, 30_000)
		if !w.woken() {
			t.Error("a lease that left due tasks did not wake the workers")
		}
		got := w.lease(t0, 10, 30_000)
		wantNames(t, "lease", got.Tasks, "now2", "now3", "now4")
		if w.woken() {
			t.Error("a lease that took every due task woke the workers")
		}
		// A retry due at once wakes them; a retry due later than the earliest does not.
		if ok, _ := w.br.Retry(w.ctx, q, t0+1, "now2", 1, []byte("r"), t0+1); !ok {
			t.Fatal("Retry = false")
		}
		if !w.woken() {
			t.Error("a retry due now did not wake the workers")
		}
		if ok, _ := w.br.Retry(w.ctx, q, t0+1, "now3", 1, []byte("r"), t0+25_000); !ok {
			t.Fatal("Retry = false")
		}
		if w.woken() {
			t.Error("a retry due after the earliest task woke the workers")
		}
	})
}

// onlyKeepers fails the test unless the tasks hash and the in-flight index hold nothing but
// their keepers.
func (w *world) onlyKeepers() {
	w.t.Helper()
	k := w.br.keys(q)
	if f, _ := w.rdb.HKeys(w.ctx, k.tasks).Result(); !slices.Equal(f, []string{keeper}) {
		w.t.Errorf("tasks hash holds %q, want the keeper only", f)
	}
	if m, _ := w.rdb.ZRange(w.ctx, k.inflight, 0, -1).Result(); !slices.Equal(m, []string{keeper}) {
		w.t.Errorf("in-flight index holds %q, want the keeper only", m)
	}
}

// TestKeeper checks that the keeper entries put the tasks hash and the in-flight index in
// their large encodings from the first task on (real Redis), and that no figure or lease
// ever counts them.
func TestKeeper(t *testing.T) {
	t.Parallel()
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		w := setup(t, b)
		w.enqueue(push("a", t0))
		got := w.lease(t0, 10, 30_000)
		wantNames(t, "lease", got.Tasks, "a")
		if got.Next != t0+30_000 {
			t.Errorf("next = %d, want the lease expiry %d", got.Next, t0+30_000)
		}
		if b.Name == "redis" {
			k := w.br.keys(q)
			for key, want := range map[string]string{k.tasks: "hashtable", k.inflight: "skiplist"} {
				if enc, err := w.rdb.ObjectEncoding(w.ctx, key).Result(); enc != want {
					t.Errorf("encoding of %s = %q (%v), want %q", key, enc, err, want)
				}
			}
		}
		if st := w.stats(t0); st.Tasks != 1 || st.InFlight != 1 || st.Oldest != t0+30_000 {
			t.Errorf("stats = %+v, want 1 task in flight", st)
		}
		wantFlags(t, "ack", w.ack(t0, Ack{Name: "a", Token: 1}), true)
		if st := w.stats(t0); st.Tasks != 0 || st.InFlight != 0 || st.Oldest != 0 {
			t.Errorf("stats after the ack = %+v, want no task", st)
		}
		if got := w.lease(t0, 10, 30_000); len(got.Tasks) != 0 || got.Next != 0 {
			t.Errorf("lease of an empty queue = %+v, want nothing and no next time", got)
		}
		w.onlyKeepers()
	})
}

// TestBinaryEnvelope checks that envelopes are stored byte for byte, whatever they hold.
func TestBinaryEnvelope(t *testing.T) {
	t.Parallel()
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		w := setup(t, b)
		env := make([]byte, 256)
		for i := range env {
			env[i] = byte(i)
		}
		w.enqueue(NewTask{Name: "a", Envelope: env, Due: t0}, NewTask{Name: "p", Envelope: env, Due: t0, Pull: true})
		if got := w.lease(t0, 1, 1000).Tasks; len(got) != 1 || !bytes.Equal(got[0].Envelope, env) {
			t.Fatalf("push envelope changed: %v", got)
		}
		if got := w.leasePull(t0, 1, 1000, PullAny, ""); len(got) != 1 || !bytes.Equal(got[0].Envelope, env) {
			t.Fatalf("pull envelope changed: %v", got)
		}
	})
}

// TestScriptCacheFlushed checks that the pipelined calls survive a Redis that lost its
// script cache (a restart or failover).
func TestScriptCacheFlushed(t *testing.T) {
	t.Parallel()
	_, rdb := redistest.Miniredis(t)
	w := setup(t, redistest.Backend{Client: rdb, Prefix: "p"})
	w.enqueue(push("a", t0))
	w.stats(t0)
	if err := rdb.ScriptFlush(w.ctx).Err(); err != nil {
		t.Fatal(err)
	}
	wantNames(t, "lease after SCRIPT FLUSH", w.lease(t0, 1, 1000).Tasks, "a")
	if st := w.stats(t0); st.Tasks != 1 {
		t.Fatalf("stats after SCRIPT FLUSH = %+v", st)
	}
}

// TestKeysShareHashTag checks that every key of a queue lands in the queue's cluster slot.
func TestKeysShareHashTag(t *testing.T) {
	t.Parallel()
	k := New(nil, "pre").keys("my-queue")
	for _, key := range []string{k.tasks, k.push, k.pull, k.inflight, k.tombs, k.tags, k.dead, k.deadIdx, k.wake, k.executed(t0)} {
		if !bytes.HasPrefix([]byte(key), []byte("pre:{my-queue}:")) {
			t.Errorf("key %q is outside the queue's hash tag", key)
		}
	}
}

// A retry of a task whose lease ran out during the attempt, and which a lease call has put
// back in the ready list meanwhile, keeps its backoff: the ready copy goes.
func TestRetryAfterTheLeaseRanOutKeepsTheBackoff(t *testing.T) {
	t.Parallel()
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		w := setup(t, b)
		w.enqueue(push("a", t0), push("b", t0))
		wantNames(t, "first lease", w.lease(t0, 1, 1000).Tasks, "a")
		// a's lease ran out: this call puts a back behind b and leases b only.
		wantNames(t, "second lease", w.lease(t0+1500, 1, 30_000).Tasks, "b")
		ok, err := w.br.Retry(w.ctx, q, t0+1600, "a", 1, body("a"), t0+60_000)
		if err != nil || !ok {
			t.Fatalf("Retry = %v, %v; want true", ok, err)
		}
		wantNames(t, "lease before the backoff ends", w.lease(t0+2000, 10, 30_000).Tasks)
		wantNames(t, "lease after the backoff", w.lease(t0+60_000, 1, 30_000).Tasks, "a")
	})
}

// TestKeysKeptUpToABound checks that a Broker keeps the keys of at most maxKeptQueues
// queues built, and names every queue's keys right either way.
func TestKeysKeptUpToABound(t *testing.T) {
	t.Parallel()
	br := New(nil, "p")
	for i := range maxKeptQueues + 10 {
		q := fmt.Sprint("q", i)
		if got, want := br.keys(q), br.buildKeys(q); got != want {
			t.Fatalf("keys(%s) = %+v, want %+v", q, got, want)
		}
	}
	if got, want := br.keys("q1"), br.buildKeys("q1"); got != want {
		t.Fatalf("kept keys(q1) = %+v, want %+v", got, want)
	}
	if n := br.named.Load(); n != maxKeptQueues {
		t.Errorf("%d queues' keys kept, want %d", n, maxKeptQueues)
	}
}

// TestAckCallbacksInBatchOrder checks that the callbacks of one ack call join the ready list
// in the order of their tasks in the batch.
func TestAckCallbacksInBatchOrder(t *testing.T) {
	t.Parallel()
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		w := setup(t, b)
		var tasks []NewTask
		var acks []Ack
		var want []string
		for i := range 40 {
			name := fmt.Sprintf("t%02d", i)
			tasks = append(tasks, push(name, t0))
			a := Ack{Name: name, Token: 1}
			if i%3 == 0 {
				a.Callback = &NewTask{Name: name + "-cb", Envelope: body(name + "-cb"), Due: t0}
				want = append(want, name+"-cb")
			}
			acks = append(acks, a)
		}
		w.enqueue(tasks...)
		if got := w.lease(t0, 100, 30_000); len(got.Tasks) != 40 {
			t.Fatalf("leased %d tasks, want 40", len(got.Tasks))
		}
		w.ack(t0, acks...)
		wantNames(t, "callbacks", w.lease(t0, 100, 30_000).Tasks, want...)
	})
}

// TestNegativeDueTimes covers tasks due before 1970 (an ETA in the past): a pull task is
// leased, and the oldest due time is reported, for push and pull alike.
func TestNegativeDueTimes(t *testing.T) {
	t.Parallel()
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		w := setup(t, b)
		w.enqueue(pull("old", -5000, ""), push("older", -9000))
		if st := w.stats(t0); st.Tasks != 2 || st.Oldest != -9000 {
			t.Errorf("stats = %+v, want 2 tasks, oldest -9000", st)
		}
		got := w.leasePull(t0, 10, 30_000, PullAny, "")
		wantNames(t, "lease pull", got, "old")
		if !bytes.Equal(got[0].Envelope, body("old")) {
			t.Errorf("pull envelope = %q", got[0].Envelope)
		}
		wantNames(t, "lease", w.lease(t0, 10, 30_000).Tasks, "older")
	})
}

// TestEnqueueNothingWritesNothing checks that an empty batch touches no key.
func TestEnqueueNothingWritesNothing(t *testing.T) {
	t.Parallel()
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		w := setup(t, b)
		if res, err := w.br.Enqueue(w.ctx, q, t0, nil); err != nil || len(res) != 0 {
			t.Fatalf("Enqueue(nothing) = %v, %v", res, err)
		}
		if keys, _ := w.rdb.Keys(w.ctx, b.Prefix+"*").Result(); len(keys) != 0 {
			t.Errorf("keys written: %q", keys)
		}
	})
}
