// Package broker is the only code that knows redelay's Redis keys, its stored task
// envelope and its Lua scripts. Every change of a task's state is one script call, so a
// crash between two calls never leaves a task in two states or in none.
//
// A queue keeps each task's envelope in one hash, prefixed by its dispatch count and due
// time. Push tasks that are due wait in a ready list, in the order they became due; tasks
// due later wait in a sorted set by due time, and leased tasks in a small sorted set by lease
// expiry. The lease script first moves to the ready list the scheduled tasks that became due
// and the leased tasks whose lease ran out (their worker died): it is the promoter and the
// recoverer. Each lease increments the task's dispatch count, which is also the lease token:
// an ack, retry or extension that carries an older count changes nothing. Scripts handle a
// batch through a few variadic commands, whatever its size.
package broker

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

//go:embed lua/*.lua
var luaFiles embed.FS

// keeper is the entry that the tasks hash and the in-flight index of a queue keep while they
// exist: a field (in the hash) and a member (in the sorted set, scored +inf) longer than
// Redis's listpack limits (hash-max-listpack-value and zset-max-listpack-value, 64 bytes by
// default). Redis stores a small hash or sorted set as a listpack, whose lookups, inserts and
// removals scan it, and converts it for good once an entry is too long; the keeper makes
// that happen at once, so a queue with a few hundred tasks pays a hash lookup per task, not
// a scan. No task name can equal it: names have no spaces. Scripts see it as the local
// variable keep.
const keeper = "~ redelay keeps this entry so that the key stays in its hashtable or skiplist encoding ~"

func script(name string) *redis.Script {
	src, err := luaFiles.ReadFile("lua/" + name + ".lua")
	if err != nil {
		panic(err)
	}
	return redis.NewScript("local keep = '" + keeper + "'\n" + string(src))
}

var (
	enqueueScript      = script("enqueue")
	enqueueReadyScript = script("enqueue_ready")
	leaseScript        = script("lease")
	leasePullScript    = script("lease_pull")
	ackScript          = script("ack")
	retryScript        = script("retry")
	buryScript         = script("bury")
	extendScript       = script("extend")
	modifyLeaseScript  = script("modify_lease")
	deleteScript       = script("delete")
	purgeScript        = script("purge")
	statsScript        = script("stats")
	deadListScript     = script("dead_list")
	requeueScript      = script("requeue")
)

// Errors of ModifyLease.
var (
	ErrNotFound     = errors.New("broker: task not found")
	ErrLeaseExpired = errors.New("broker: lease expired or not held")
)

// Broker runs redelay's scripts against one Redis (or Cluster, or Sentinel setup).
type Broker struct {
	rdb    redis.UniversalClient
	prefix string
	names  sync.Map     // queue -> *queueKeys, built once per queue
	named  atomic.Int64 // entries in names
}

// New returns a Broker whose keys start with prefix.
func New(rdb redis.UniversalClient, prefix string) *Broker {
	return &Broker{rdb: rdb, prefix: prefix}
}

// Redis returns the client the broker uses.
func (b *Broker) Redis() redis.UniversalClient { return b.rdb }

// NewTask is one task to enqueue.
type NewTask struct {
	Name     string
	Envelope []byte
	Due      int64 // ms

	// Stored, when set, is "0;<Due>;<Envelope>" as EncodeStored made it, the value a
	// batch of ready tasks stores as it is; Enqueue builds it otherwise.
	Stored []byte

	Pull bool
	Tag  string // pull tasks only

	// Named is set when the caller chose the name: Enqueue then checks that it is free. A
	// generated name is unique and is not checked.
	Named bool

	// IdempotencyKey, when set, makes a repeat of the task a no-op until KeyUntil (ms):
	// Enqueue then reports the name of the task the key already maps to.
	IdempotencyKey string
	KeyUntil       int64
}

func kind(pull bool, tag string) string {
	switch {
	case !pull:
		return "s"
	case tag == "":
		return "l"
	default:
		return "L" + tag
	}
}

// Enqueued is the fate of one task of an Enqueue call.
type Enqueued struct {
	// Added is false when the task's name is taken by a waiting, leased or dead task, or
	// is tombstoned, or when its idempotency key is taken.
	Added bool
	// Existing is the name of the task the idempotency key maps to, when it is taken.
	Existing string
}

// Enqueue adds tasks to queue in one script call.
func (b *Broker) Enqueue(ctx context.Context, queue string, now int64, tasks []NewTask) ([]Enqueued, error) {
	if len(tasks) == 0 {
		return nil, nil
	}
	k := b.keys(queue)
	if allReady(tasks, now) {
		return b.enqueueReady(ctx, k, tasks)
	}
	args := make([]any, 0, 2+6*len(tasks))
	check := "0"
	for _, t := range tasks {
		if t.Named || t.IdempotencyKey != "" {
			check = "1"
		}
	}
	args = append(args, now, check)
	for _, t := range tasks {
		args = append(args, t.Name, t.Envelope, t.Due, kind(t.Pull, t.Tag), t.IdempotencyKey, t.KeyUntil)
	}
	res, err := enqueueScript.Run(ctx, b.rdb, []string{k.tasks, k.push, k.pull, k.tombs, k.dead, k.wake, k.tags, k.idem, k.idemIdx, k.ready}, args...).Slice()
	if err != nil {
		return nil, fmt.Errorf("enqueue: %w", err)
	}
	out := make([]Enqueued, len(res))
	for i, v := range res {
		switch v := v.(type) {
		case int64:
			out[i].Added = v == 1
		case string:
			out[i].Existing = v
		}
	}
	return out, nil
}

// allReady reports whether tasks are all push tasks with generated names and no idempotency
// key, due by now, in due order: the batch the ready list takes as it is, with no check.
func allReady(tasks []NewTask, now int64) bool {
	last := int64(math.MinInt64)
	for i := range tasks {
		t := &tasks[i]
		if t.Pull || t.Named || t.IdempotencyKey != "" || t.Due > now || t.Due < last {
			return false
		}
		last = t.Due
	}
	return true
}

// enqueueReady adds a batch that allReady accepts. The stored values are built here, in
// one buffer, so the script only hands them to Redis.
func (b *Broker) enqueueReady(ctx context.Context, k queueKeys, tasks []NewTask) ([]Enqueued, error) {
	size := 0
	for i := range tasks {
		if tasks[i].Stored == nil {
			size += len(tasks[i].Envelope) + maxStoredPrefix
		}
	}
	buf := make([]byte, 0, size)
	args := make([]any, 0, 2*len(tasks))
	for i := range tasks {
		t := &tasks[i]
		if t.Stored != nil {
			args = append(args, t.Name, t.Stored)
			continue
		}
		start := len(buf)
		buf = append(appendStoredPrefix(buf, t.Due), t.Envelope...)
		args = append(args, t.Name, buf[start:len(buf):len(buf)])
	}
	if err := enqueueReadyScript.Run(ctx, b.rdb, []string{k.tasks, k.ready, k.wake}, args...).Err(); err != nil {
		return nil, fmt.Errorf("enqueue: %w", err)
	}
	out := make([]Enqueued, len(tasks))
	for i := range out {
		out[i].Added = true
	}
	return out, nil
}

func flags(res []int64) []bool {
	out := make([]bool, len(res))
	for i, v := range res {
		out[i] = v == 1
	}
	return out
}

// Leased is a task handed out by a lease.
type Leased struct {
	Name     string
	Token    int64 // the task's dispatch count, counting this lease
	Envelope []byte
	Tag      string // pull tasks only
}

// MaxLeaseBatch is the most tasks one lease call hands out.
const MaxLeaseBatch = 2000

// LeaseRequest asks for up to Limit (at most MaxLeaseBatch) due push tasks of Queue for LeaseMs.
type LeaseRequest struct {
	Queue   string
	Limit   int
	LeaseMs int64
}

// LeaseResult is the answer to one LeaseRequest. Next is the earliest due time (ms) left in
// the queue, which may be a running task's lease expiry; 0 when the queue is empty. An Err
// concerns that queue only.
type LeaseResult struct {
	Tasks []Leased
	Next  int64
	Err   error
}

// Lease leases due push tasks from several queues in one round trip.
func (b *Broker) Lease(ctx context.Context, now int64, reqs []LeaseRequest) []LeaseResult {
	calls := make([]scriptCall, len(reqs))
	for i, r := range reqs {
		k := b.keys(r.Queue)
		calls[i] = scriptCall{leaseScript, []string{k.tasks, k.push, k.inflight, k.wake, k.ready}, []any{now, min(r.Limit, MaxLeaseBatch), r.LeaseMs}}
	}
	cmds := b.runPipelined(ctx, calls)
	out := make([]LeaseResult, len(reqs))
	for i, cmd := range cmds {
		vals, err := cmd.Slice()
		if err != nil {
			out[i].Err = fmt.Errorf("lease %s: %w", reqs[i].Queue, err)
			continue
		}
		out[i].Next = parseScore(vals[0])
		out[i].Tasks, out[i].Err = leasedTasks(vals[1:], 3)
		for j := range out[i].Tasks {
			out[i].Tasks[j].Envelope = afterDue(out[i].Tasks[j].Envelope)
		}
	}
	return out
}

// afterDue returns the envelope that follows ";<due>;" in the tail of a stored value.
func afterDue(tail []byte) []byte {
	if len(tail) > 0 && tail[0] == ';' {
		if i := bytes.IndexByte(tail[1:], ';'); i >= 0 {
			return tail[i+2:]
		}
	}
	return tail
}

func leasedTasks(vals []any, stride int) ([]Leased, error) {
	tasks := make([]Leased, 0, len(vals)/stride)
	for j := 0; j+stride <= len(vals); j += stride {
		name, _ := vals[j].(string)
		token, _ := vals[j+1].(int64)
		env, _ := vals[j+2].(string)
		t := Leased{Name: name, Token: token, Envelope: []byte(env)}
		if stride > 3 {
			t.Tag, _ = vals[j+3].(string)
		}
		tasks = append(tasks, t)
	}
	return tasks, nil
}

// parseScore reads a sorted-set score (ms) that a script returned as a string: Redis
// writes "1700000000000", miniredis "1.7e+12". "" (no score) is 0.
func parseScore(v any) int64 {
	s, _ := v.(string)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return int64(f)
}

// Pull-lease modes.
const (
	PullAny         = "0" // any due task
	PullTag         = "1" // due tasks with the given tag
	PullEarliestTag = "2" // due tasks tagged like the earliest due task
)

// LeasePull leases up to limit due pull tasks of queue for leaseMs; their due time becomes
// the lease expiry.
func (b *Broker) LeasePull(ctx context.Context, queue string, now int64, limit int, leaseMs int64, mode, tag string) ([]Leased, error) {
	k := b.keys(queue)
	vals, err := leasePullScript.Run(ctx, b.rdb, []string{k.tasks, k.pull, k.tags}, now, limit, leaseMs, mode, tag).Slice()
	if err != nil {
		return nil, fmt.Errorf("lease pull tasks: %w", err)
	}
	return leasedTasks(vals, 4)
}

// Ack is one finished delivery.
type Ack struct {
	Name      string
	Token     int64
	Tombstone bool     // keep the name taken for the tombstone period
	Record    []byte   // the task's record, kept for the result lifetime; nil keeps none
	Callback  *NewTask // a task to add in the same queue, atomically (the outcome's callback)
}

// Ack removes delivered tasks of one queue; done[i] is false where the lease was stale.
func (b *Broker) Ack(ctx context.Context, queue string, now, tombstoneMs, recordMs int64, acks []Ack) (done []bool, err error) {
	calls := []scriptCall{b.ackCall(queue, now, tombstoneMs, recordMs, acks)}
	res, err := b.runPipelined(ctx, calls)[0].Int64Slice()
	if err != nil {
		return nil, fmt.Errorf("ack: %w", err)
	}
	return flags(res), nil
}

// AckBatch is the acks of one queue in an AckMulti call.
type AckBatch struct {
	Queue string
	Acks  []Ack
}

// AckMulti acks the tasks of several queues in one round trip. errs[i] concerns batches[i].
// Records live for recordMs.
func (b *Broker) AckMulti(ctx context.Context, now, tombstoneMs, recordMs int64, batches []AckBatch) (errs []error) {
	calls := make([]scriptCall, len(batches))
	for i, bt := range batches {
		calls[i] = b.ackCall(bt.Queue, now, tombstoneMs, recordMs, bt.Acks)
	}
	errs = make([]error, len(batches))
	for i, cmd := range b.runPipelined(ctx, calls) {
		if err := cmd.Err(); err != nil {
			errs[i] = fmt.Errorf("ack %s: %w", batches[i].Queue, err)
		}
	}
	return errs
}

func (b *Broker) ackCall(queue string, now, tombstoneMs, recordMs int64, acks []Ack) scriptCall {
	k := b.keys(queue)
	args := make([]any, 0, 5+3*len(acks))
	width := recordBucketWidth(recordMs)
	expireIn := (now/width+1)*width + recordMs - now // the bucket's end plus the lifetime
	args = append(args, now, tombstoneMs, expireIn, k.finished(), len(acks))
	for _, a := range acks {
		args = append(args, a.Name, a.Token, a.Record)
	}
	// Tombstones and callbacks, rare, follow in groups of four for the tasks that have them.
	for i, a := range acks {
		if a.Tombstone || a.Callback != nil {
			tomb := "0"
			if a.Tombstone {
				tomb = "1"
			}
			cbName, cbEnv := callbackArgs(a.Callback)
			args = append(args, i+1, tomb, cbName, cbEnv)
		}
	}
	return scriptCall{ackScript, []string{k.tasks, k.ready, k.inflight, k.tombs, k.executed(now), k.records(now, recordMs), k.wake}, args}
}

func callbackArgs(t *NewTask) (name string, envelope []byte) {
	if t == nil {
		return "", nil
	}
	return t.Name, t.Envelope
}

// Retry reschedules a leased push task at due with a new envelope. It reports false when
// the lease was stale.
func (b *Broker) Retry(ctx context.Context, queue string, now int64, name string, token int64, envelope []byte, due int64) (bool, error) {
	k := b.keys(queue)
	n, err := retryScript.Run(ctx, b.rdb, []string{k.tasks, k.push, k.inflight, k.wake, k.ready}, now, name, token, envelope, due).Int64()
	if err != nil {
		return false, fmt.Errorf("retry %q: %w", name, err)
	}
	return n == 1, nil
}

// Bury moves a task to the dead set with its final envelope and adds callback (nil for
// none) to the queue. A token of 0 skips the lease check. It reports false when the task is
// gone or the lease was stale.
func (b *Broker) Bury(ctx context.Context, queue string, now int64, name string, token int64, envelope []byte, callback *NewTask) (bool, error) {
	k := b.keys(queue)
	tok := ""
	if token > 0 {
		tok = strconv.FormatInt(token, 10)
	}
	cbName, cbEnv := callbackArgs(callback)
	n, err := buryScript.Run(ctx, b.rdb, []string{k.tasks, k.ready, k.pull, k.inflight, k.dead, k.deadIdx, k.tags, k.wake, k.push},
		now, name, tok, envelope, k.finished(), cbName, cbEnv).Int64()
	if err != nil {
		return false, fmt.Errorf("bury %q: %w", name, err)
	}
	return n == 1, nil
}

// Lease identifies one held lease.
type Lease struct {
	Name  string
	Token int64
}

// Extend sets the lease of running push tasks to now+leaseMs; leaseMs 0 releases them, due
// at once. ok[i] is false where the lease was stale.
func (b *Broker) Extend(ctx context.Context, queue string, now, leaseMs int64, leases []Lease) (ok []bool, err error) {
	states, err := b.ExtendLeases(ctx, queue, now, leaseMs, leases)
	if err != nil {
		return nil, err
	}
	ok = make([]bool, len(states))
	for i, s := range states {
		ok[i] = s == LeaseExtended
	}
	return ok, nil
}

// What became of a lease that ExtendLeases was asked to extend.
const (
	LeaseGone     = 0 // the task finished or was deleted
	LeaseExtended = 1
	LeaseTaken    = 2 // another lease holds the task now
	LeaseExpired  = 3 // the lease ran out; the task waits to be delivered again
)

// ExtendLeases is Extend reporting, for each lease, LeaseExtended, LeaseGone, LeaseTaken or
// LeaseExpired.
func (b *Broker) ExtendLeases(ctx context.Context, queue string, now, leaseMs int64, leases []Lease) ([]int64, error) {
	k := b.keys(queue)
	args := make([]any, 0, 2+2*len(leases))
	args = append(args, now, leaseMs)
	for _, l := range leases {
		args = append(args, l.Name, l.Token)
	}
	res, err := extendScript.Run(ctx, b.rdb, []string{k.tasks, k.ready, k.inflight, k.wake}, args...).Int64Slice()
	if err != nil {
		return nil, fmt.Errorf("extend leases: %w", err)
	}
	return res, nil
}

// ModifyLease changes the lease of a leased pull task whose current expiry is heldMs and
// returns the new expiry. Errors: ErrNotFound, ErrLeaseExpired.
func (b *Broker) ModifyLease(ctx context.Context, queue string, now int64, name string, heldMs, leaseMs int64) (int64, error) {
	k := b.keys(queue)
	n, err := modifyLeaseScript.Run(ctx, b.rdb, []string{k.pull, k.tasks}, now, name, heldMs, leaseMs).Int64()
	switch {
	case err != nil:
		return 0, fmt.Errorf("modify lease of %q: %w", name, err)
	case n == -1:
		return 0, ErrNotFound
	case n == -2:
		return 0, ErrLeaseExpired
	}
	return n, nil
}

// Delete removes tasks by name, waiting, leased or dead, and tombstones their names for
// tombstoneMs. deleted[i] is false where names[i] was unknown.
func (b *Broker) Delete(ctx context.Context, queue string, now, tombstoneMs int64, names []string) (deleted []bool, err error) {
	k := b.keys(queue)
	args := make([]any, 0, 2+len(names))
	args = append(args, now, tombstoneMs)
	for _, n := range names {
		args = append(args, n)
	}
	res, err := deleteScript.Run(ctx, b.rdb, []string{k.tasks, k.push, k.pull, k.inflight, k.tombs, k.tags, k.dead, k.deadIdx, k.ready}, args...).Int64Slice()
	if err != nil {
		return nil, fmt.Errorf("delete: %w", err)
	}
	return flags(res), nil
}

// Purge removes every task of queue, dead ones and the records of succeeded ones kept for
// recordMs included. Tombstones stay.
func (b *Broker) Purge(ctx context.Context, queue string, now, recordMs int64) error {
	k := b.keys(queue)
	keys := append([]string{k.tasks, k.push, k.pull, k.inflight, k.tags, k.dead, k.deadIdx, k.idem, k.idemIdx, k.ready}, k.recordKeys(now, recordMs)...)
	err := purgeScript.Run(ctx, b.rdb, keys).Err()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("purge: %w", err)
	}
	return nil
}

// Stats are one queue's figures.
type Stats struct {
	Tasks    int   // waiting, scheduled and leased
	Oldest   int64 // earliest due time (ms); 0 when empty
	InFlight int   // leased push tasks whose lease has not expired
	Executed int   // tasks acked in the last minute
	Dead     int
}

// Stats returns the figures of several queues in one round trip.
func (b *Broker) Stats(ctx context.Context, now int64, queues []string) ([]Stats, error) {
	calls := make([]scriptCall, len(queues))
	for i, q := range queues {
		k := b.keys(q)
		keys := []string{k.push, k.pull, k.inflight, k.dead, k.ready, k.tasks}
		for j := range executedBuckets {
			keys = append(keys, k.executed(now-int64(j)*executedBucketWidth))
		}
		calls[i] = scriptCall{statsScript, keys, []any{now}}
	}
	out := make([]Stats, len(queues))
	for i, cmd := range b.runPipelined(ctx, calls) {
		vals, err := cmd.Slice()
		if err != nil {
			return nil, fmt.Errorf("stats of %s: %w", queues[i], err)
		}
		st := &out[i]
		st.Tasks = int(vals[0].(int64))
		st.Oldest = parseScore(vals[1])
		st.InFlight = int(vals[2].(int64))
		st.Executed = int(vals[3].(int64))
		st.Dead = int(vals[4].(int64))
	}
	return out, nil
}

// DeadTask is one entry of the dead set.
type DeadTask struct {
	Name     string
	Died     int64 // ms
	Envelope []byte
}

// DeadList returns up to count dead tasks of queue, most recent first, skipping offset.
func (b *Broker) DeadList(ctx context.Context, queue string, offset, count int) ([]DeadTask, error) {
	k := b.keys(queue)
	vals, err := deadListScript.Run(ctx, b.rdb, []string{k.dead, k.deadIdx}, offset, count).Slice()
	if err != nil {
		return nil, fmt.Errorf("list dead tasks: %w", err)
	}
	out := make([]DeadTask, 0, len(vals)/3)
	for j := 0; j+3 <= len(vals); j += 3 {
		name, _ := vals[j].(string)
		died := vals[j+1]
		env, _ := vals[j+2].(string)
		out = append(out, DeadTask{Name: name, Died: parseScore(died), Envelope: []byte(env)})
	}
	return out, nil
}

// Requeued is a dead task to put back, due now, with a fresh envelope.
type Requeued struct {
	Name     string
	Envelope []byte
	Pull     bool
	Tag      string
}

// Requeue moves dead tasks back to their queue; done[i] is false where the task was not dead.
func (b *Broker) Requeue(ctx context.Context, queue string, now int64, tasks []Requeued) (done []bool, err error) {
	k := b.keys(queue)
	args := make([]any, 0, 1+3*len(tasks))
	args = append(args, now)
	for _, t := range tasks {
		args = append(args, t.Name, t.Envelope, kind(t.Pull, t.Tag))
	}
	res, err := requeueScript.Run(ctx, b.rdb, []string{k.tasks, k.ready, k.pull, k.dead, k.deadIdx, k.wake, k.tags}, args...).Int64Slice()
	if err != nil {
		return nil, fmt.Errorf("requeue: %w", err)
	}
	return flags(res), nil
}

// WakeKey is the list an idle worker blocks on (BLPOP) to learn that queue's push index
// has tasks due sooner than it knew.
func (b *Broker) WakeKey(queue string) string { return b.keys(queue).wake }

type scriptCall struct {
	script *redis.Script
	keys   []string
	args   []any
}

// runPipelined runs calls in one round trip. A call that finds its script missing from
// the server's cache (NOSCRIPT) did not run; those are loaded and run again.
func (b *Broker) runPipelined(ctx context.Context, calls []scriptCall) []*redis.Cmd {
	cmds := make([]*redis.Cmd, len(calls))
	exec := func(idx []int) {
		pipe := b.rdb.Pipeline()
		for _, i := range idx {
			c := calls[i]
			cmds[i] = c.script.EvalSha(ctx, pipe, c.keys, c.args...)
		}
		_, _ = pipe.Exec(ctx)
	}
	all := make([]int, len(calls))
	for i := range all {
		all[i] = i
	}
	exec(all)
	var missing []int
	for i, cmd := range cmds {
		if err := cmd.Err(); err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") {
			if err := calls[i].script.Load(ctx, b.rdb).Err(); err != nil {
				cmds[i].SetErr(err)
				continue
			}
			missing = append(missing, i)
		}
	}
	if len(missing) > 0 {
		exec(missing)
	}
	return cmds
}

// DeadGet returns the stored envelopes of dead tasks by name; nil where a name is not dead.
func (b *Broker) DeadGet(ctx context.Context, queue string, names []string) ([][]byte, error) {
	vals, err := b.rdb.HMGet(ctx, b.keys(queue).dead, names...).Result()
	if err != nil {
		return nil, fmt.Errorf("get dead tasks: %w", err)
	}
	out := make([][]byte, len(vals))
	for i, v := range vals {
		if s, ok := v.(string); ok {
			out[i] = []byte(s)
		}
	}
	return out, nil
}
