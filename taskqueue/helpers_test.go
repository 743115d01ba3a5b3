package taskqueue_test

import (
	"context"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redelay/redelay/internal/broker"
	"github.com/redelay/redelay/internal/clientinfo"
	"github.com/redelay/redelay/internal/redistest"
	"github.com/redelay/redelay/taskqueue"
)

// start is the fake clock's first reading.
var start = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// fakeClock is a Config.Now that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is one test's world: a client on its own Redis (or its own key prefix of a real
// one), with a fake clock.
type env struct {
	t      *testing.T
	ctx    context.Context
	c      *taskqueue.Client
	clock  *fakeClock
	rdb    redis.UniversalClient
	prefix string
}

// newEnv makes a world on a fresh miniredis. cfg may be nil; its KeyPrefix and Now are
// replaced.
func newEnv(t *testing.T, cfg *taskqueue.Config) *env {
	t.Helper()
	_, rdb := redistest.Miniredis(t)
	return envOn(t, redistest.Backend{Name: "miniredis", Client: rdb, Prefix: redistest.Prefix(t, rdb)}, cfg)
}

func envOn(t *testing.T, b redistest.Backend, cfg *taskqueue.Config) *env {
	t.Helper()
	var c taskqueue.Config
	if cfg != nil {
		c = *cfg
	}
	clock := &fakeClock{t: start}
	c.KeyPrefix, c.Now = b.Prefix, clock.Now
	return &env{t: t, ctx: context.Background(), c: taskqueue.NewClient(b.Client, &c), clock: clock, rdb: b.Client, prefix: b.Prefix}
}

// each runs fn on a fresh miniredis and, when REDIS_URL is set, on real Redis: for the
// behaviours that live in Lua, where real Redis is the judge.
func each(t *testing.T, cfg *taskqueue.Config, fn func(e *env)) {
	t.Helper()
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		fn(envOn(t, b, cfg))
	})
}

// broker is the broker behind the client, to act as a worker would.
func (e *env) broker() *broker.Broker { return clientinfo.Of(e.c).Broker }

// keys lists the Redis keys the client has written.
func (e *env) keys() []string {
	e.t.Helper()
	var out []string
	iter := e.rdb.Scan(e.ctx, 0, e.prefix+":*", 1000).Iterator()
	for iter.Next(e.ctx) {
		out = append(out, strings.TrimPrefix(iter.Val(), e.prefix))
	}
	if err := iter.Err(); err != nil {
		e.t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// wantNothingWritten fails unless the client has written no key at all.
func (e *env) wantNothingWritten() {
	e.t.Helper()
	if k := e.keys(); len(k) != 0 {
		e.t.Fatalf("keys written: %q", k)
	}
}

func (e *env) add(t *taskqueue.Task, queue string) *taskqueue.Task {
	e.t.Helper()
	out, err := e.c.Add(e.ctx, t, queue)
	if err != nil {
		e.t.Fatalf("Add: %v", err)
	}
	return out
}

func (e *env) stats(queue string) taskqueue.QueueStatistics {
	e.t.Helper()
	st, err := e.c.QueueStats(e.ctx, []string{queue})
	if err != nil {
		e.t.Fatalf("QueueStats: %v", err)
	}
	return st[0]
}

func (e *env) lease(max int, queue string, leaseTime int) []*taskqueue.Task {
	e.t.Helper()
	ts, err := e.c.Lease(e.ctx, max, queue, leaseTime)
	if err != nil {
		e.t.Fatalf("Lease: %v", err)
	}
	return ts
}

// leasePush leases the due push tasks of queue as a worker would, for a minute.
func (e *env) leasePush(queue string) []broker.Leased {
	e.t.Helper()
	res := e.broker().Lease(e.ctx, e.clock.Now().UnixMilli(), []broker.LeaseRequest{{Queue: queue, Limit: 1000, LeaseMs: 60_000}})
	if res[0].Err != nil {
		e.t.Fatal(res[0].Err)
	}
	return res[0].Tasks
}

func taskNames(ts []*taskqueue.Task) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Name
	}
	return out
}

func leasedNames(ls []broker.Leased) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Name
	}
	return out
}

// roundTrips counts the round trips a client makes to Redis.
type roundTrips struct {
	mu    sync.Mutex
	n     int
	names []string
}

func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		r.mu.Lock()
		r.n++
		r.names = append(r.names, cmd.Name())
		r.mu.Unlock()
		return next(ctx, cmd)
	}
}

func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		r.mu.Lock()
		r.n++
		for _, c := range cmds {
			r.names = append(r.names, c.Name())
		}
		r.mu.Unlock()
		return next(ctx, cmds)
	}
}

func (r *roundTrips) reset() {
	r.mu.Lock()
	r.n, r.names = 0, nil
	r.mu.Unlock()
}

func (r *roundTrips) get() (int, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n, append([]string(nil), r.names...)
}

// counted returns a world whose client's round trips are counted.
func counted(t *testing.T) (*env, *roundTrips) {
	t.Helper()
	_, rdb := redistest.Miniredis(t)
	rt := &roundTrips{}
	rdb.AddHook(rt)
	return envOn(t, redistest.Backend{Name: "miniredis", Client: rdb, Prefix: redistest.Prefix(t, rdb)}, nil), rt
}
