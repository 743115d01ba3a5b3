package worker

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redelay/redelay/delay"
	"github.com/redelay/redelay/internal/broker"
	"github.com/redelay/redelay/internal/clientinfo"
	"github.com/redelay/redelay/taskqueue"
)

var contextBackground = context.Background()

// Worker leases due tasks from its queues and delivers them, in-process or over HTTP.
type Worker struct {
	cfg    Config
	b      *broker.Broker
	now    func() time.Time
	tombMs int64
	// resultTTL is how long records of succeeded tasks are kept; negative: none.
	resultTTL time.Duration
	log       *slog.Logger
	deliver   func(ctx context.Context, j *job) outcome
	queues    []*queueState
	held      *leaseSet
}

// queueState is what the fetch loop knows of one queue.
type queueState struct {
	name   string
	weight int
	ready  bool      // may have due tasks now
	next   time.Time // earliest known due time when not ready; zero if none
	armed  bool      // its waker is blocked on the wake-up list
	credit int       // smooth weighted round robin
}

// New validates cfg and returns a Worker. Errors name the bad field.
func New(cfg Config) (*Worker, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	info := clientinfo.Of(cfg.Client)
	w := &Worker{
		cfg:    cfg,
		b:      info.Broker,
		now:    info.Now,
		tombMs: info.TombstoneTTL.Milliseconds(),
		log:    cfg.Logger,
		held:   newLeaseSet(),
	}
	names := make([]string, 0, len(cfg.Queues))
	for q := range cfg.Queues {
		names = append(names, q)
	}
	sort.Strings(names)
	for _, q := range names {
		w.queues = append(w.queues, &queueState{name: q, weight: cfg.Queues[q], ready: true})
	}
	// Callbacks go to absolute URLs whatever the delivery mode; signed when there is a
	// Secret.
	callbacks := newHTTPDeliverer(cfg)
	var deliver func(ctx context.Context, j *job) outcome
	switch {
	case cfg.Target != "":
		deliver = callbacks.deliver
	case cfg.Handler != nil:
		deliver = handlerDeliverer{cfg.Handler, cfg.DeliveryTimeout}.deliver
	default:
		mux := http.NewServeMux()
		mux.Handle(delay.Path, delay.NewHandler(delay.HandlerConfig{Client: cfg.Client, Logger: cfg.Logger}))
		deliver = handlerDeliverer{mux, cfg.DeliveryTimeout}.deliver
	}
	w.deliver = func(ctx context.Context, j *job) outcome {
		start := time.Now()
		var out outcome
		if j.env.URL != "" {
			out = callbacks.deliver(ctx, j)
		} else {
			out = deliver(ctx, j)
		}
		out.duration = time.Since(start)
		return out
	}
	w.resultTTL = info.ResultTTL
	return w, nil
}

// Run leases and delivers tasks until ctx ends. Then it stops leasing, puts the tasks it
// leased but did not start back in their queues at once, lets running tasks finish for up to
// ShutdownTimeout, puts back those still running, records the outcomes, and returns nil.
// Redis errors are logged and retried with backoff; they do not end Run.
func (w *Worker) Run(ctx context.Context) error {
	r := newRun(w)
	r.start()
	r.fetchLoop(ctx)
	r.shutdown()
	return nil
}

// run is one Run's moving parts.
type run struct {
	w        *Worker
	jobs     chan *job     // leased tasks waiting for a runner
	slots    chan struct{} // a runner finished a task
	fired    chan wakeup   // a waker returned
	acks     *acker
	extender *extender

	mu          sync.Mutex
	outstanding int // leased tasks not yet finished: waiting in jobs or running

	deliveryCtx    context.Context // deliveries; ended ShutdownTimeout after Run's ctx
	cancelDelivery context.CancelFunc
	wakerCtx       context.Context
	stopWakers     context.CancelFunc
	arm            []chan struct{}
	runners        sync.WaitGroup
	abandoned      atomic.Bool // Run returned without waiting for the running deliveries
}

type wakeup struct {
	queue int
}

func newRun(w *Worker) *run {
	c := w.cfg.Concurrency
	r := &run{
		w:     w,
		jobs:  make(chan *job, c+w.cfg.Prefetch),
		slots: make(chan struct{}, 1),
		fired: make(chan wakeup, len(w.queues)),
		arm:   make([]chan struct{}, len(w.queues)),
	}
	// In-process handlers find the Client in their context, for tasks that add tasks.
	r.deliveryCtx, r.cancelDelivery = context.WithCancel(taskqueue.WithClient(context.Background(), w.cfg.Client))
	r.wakerCtx, r.stopWakers = context.WithCancel(context.Background())
	r.acks = newAcker(w)
	r.extender = newExtender(w)
	return r
}

func (r *run) start() {
	for i := range r.w.queues {
		r.arm[i] = make(chan struct{}, 1)
		go r.waker(i)
	}
	for range r.w.cfg.Concurrency {
		r.runners.Add(1)
		go r.runner()
	}
	go r.acks.loop()
	go r.extender.loop()
}

// fetchLoop leases tasks while there is room for them, blocking (never polling) when the
// queues have nothing due: on a wake-up list that enqueues push to, on a timer set to the
// earliest known due time, and on runners finishing.
func (r *run) fetchLoop(ctx context.Context) {
	w := r.w
	capacity := w.cfg.Concurrency + w.cfg.Prefetch
	lowWater := max(1, w.cfg.Concurrency/4)
	var backoff time.Duration // after a failed lease; 0 when the last one worked
	var blockedUntil time.Time
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for ctx.Err() == nil {
		r.mu.Lock()
		free := capacity - r.outstanding
		r.mu.Unlock()
		r.takeWakeups()
		now := w.now()
		for i, q := range w.queues {
			if !q.ready && !q.next.IsZero() && !q.next.After(now) {
				q.ready = true
			}
			if !q.ready && !q.armed {
				q.armed = true
				r.arm[i] <- struct{}{}
			}
		}
		ready := w.readyQueues()
		canLease := !now.Before(blockedUntil) && (free >= lowWater || (free > 0 && len(r.jobs) == 0))
		if len(ready) > 0 && canLease {
			if err := r.lease(ctx, ready, free, now); err != nil {
				backoff = nextBackoff(backoff)
				blockedUntil = now.Add(backoff)
				w.log.Error("lease failed; retrying", "error", err, "retry_in", backoff)
			} else {
				backoff = 0
			}
			continue
		}
		// Nothing to do now: wait for a reason to look again.
		wait := time.Hour
		if now.Before(blockedUntil) {
			wait = blockedUntil.Sub(now)
		} else {
			for _, q := range w.queues {
				if !q.ready && !q.next.IsZero() {
					wait = min(wait, q.next.Sub(now))
				}
			}
		}
		timer.Reset(max(wait, 0))
		select {
		case <-ctx.Done():
		case <-r.slots:
		case wk := <-r.fired:
			r.woken(wk)
		case <-timer.C:
		}
	}
}

// takeWakeups notes the wakers that returned while the loop was busy leasing.
func (r *run) takeWakeups() {
	for {
		select {
		case wk := <-r.fired:
			r.woken(wk)
		default:
			return
		}
	}
}

// woken marks a queue whose waker returned ready. Popped: something became due. Timed out:
// look anyway, so tasks whose lease ran out in another worker's hands are recovered within
// a second of it.
func (r *run) woken(wk wakeup) {
	q := r.w.queues[wk.queue]
	q.armed, q.ready = false, true
}

func nextBackoff(d time.Duration) time.Duration {
	if d == 0 {
		return 100 * time.Millisecond
	}
	return min(2*d, 5*time.Second)
}

func (w *Worker) readyQueues() []*queueState {
	var out []*queueState
	for _, q := range w.queues {
		if q.ready {
			out = append(out, q)
		}
	}
	return out
}

// lease splits free slots among the ready queues by weight and leases from all of them in
// one round trip.
func (r *run) lease(ctx context.Context, ready []*queueState, free int, now time.Time) error {
	w := r.w
	share := shares(ready, free)
	reqs := make([]broker.LeaseRequest, 0, len(ready))
	asked := make([]*queueState, 0, len(ready))
	for i, q := range ready {
		if share[i] > 0 {
			reqs = append(reqs, broker.LeaseRequest{Queue: q.name, Limit: share[i], LeaseMs: w.cfg.LeaseDuration.Milliseconds()})
			asked = append(asked, q)
		}
	}
	results := w.b.Lease(ctx, now.UnixMilli(), reqs)
	var firstErr error
	for i, res := range results {
		q := asked[i]
		if res.Err != nil {
			if firstErr == nil {
				firstErr = res.Err
			}
			continue
		}
		if len(res.Tasks) < reqs[i].Limit {
			q.ready = false
			q.next = time.Time{}
			if res.Next > 0 {
				q.next = time.UnixMilli(res.Next)
			}
		}
		r.mu.Lock()
		r.outstanding += len(res.Tasks)
		r.mu.Unlock()
		for _, t := range res.Tasks {
			w.held.add(q.name, t.Name, t.Token)
		}
	}
	// Runners take the tasks in the queues' proportions, not one queue's batch first.
	for more := true; more; {
		more = false
		for i, res := range results {
			take := min(asked[i].weight, len(res.Tasks))
			for _, t := range res.Tasks[:take] {
				r.jobs <- newJob(asked[i].name, t)
			}
			results[i].Tasks = res.Tasks[take:]
			more = more || len(results[i].Tasks) > 0
		}
	}
	return firstErr
}

// shares splits free among queues by weight with smooth weighted round robin, so small
// numbers of free slots still go to each queue in proportion over time.
func shares(queues []*queueState, free int) []int {
	out := make([]int, len(queues))
	total := 0
	for _, q := range queues {
		total += q.weight
	}
	for range free {
		best := 0
		for i, q := range queues {
			q.credit += q.weight
			if q.credit > queues[best].credit {
				best = i
			}
		}
		queues[best].credit -= total
		out[best]++
	}
	return out
}

// waker blocks on queue i's wake-up list whenever the fetch loop arms it, and reports.
func (r *run) waker(i int) {
	key := r.w.b.WakeKey(r.w.queues[i].name)
	rdb := r.w.b.Redis()
	for {
		select {
		case <-r.wakerCtx.Done():
			return
		case <-r.arm[i]:
		}
		_, err := rdb.BLPop(r.wakerCtx, time.Second, key).Result()
		if err != nil && r.wakerCtx.Err() == nil && !isNil(err) {
			r.w.log.Warn("wait for tasks failed", "queue", r.w.queues[i].name, "error", err)
			select {
			case <-time.After(time.Second):
			case <-r.wakerCtx.Done():
			}
		}
		select {
		case r.fired <- wakeup{queue: i}:
		case <-r.wakerCtx.Done():
			return
		}
	}
}

// runner delivers leased tasks one at a time.
func (r *run) runner() {
	defer r.runners.Done()
	for j := range r.jobs {
		r.handle(j)
		recycle(j)
		r.mu.Lock()
		r.outstanding--
		r.mu.Unlock()
		select {
		case r.slots <- struct{}{}:
		default:
		}
	}
}

// shutdown runs after the fetch loop stopped: see Run.
func (r *run) shutdown() {
	w := r.w
	r.stopWakers()
	// Tasks leased but not started go back at once.
	var unstarted []*job
drain:
	for {
		select {
		case j := <-r.jobs:
			unstarted = append(unstarted, j)
			r.mu.Lock()
			r.outstanding--
			r.mu.Unlock()
		default:
			break drain
		}
	}
	close(r.jobs)
	r.release(unstarted)

	done := make(chan struct{})
	go func() { r.runners.Wait(); close(done) }()
	select {
	case <-done:
		r.acks.close()
	case <-time.After(w.cfg.ShutdownTimeout):
		// Abandon the running deliveries: record the acks already made, then put every
		// task still held back in its queue. A delivery that returns later changes nothing.
		w.log.Warn("shutdown timeout: returning running tasks to their queues", "timeout", w.cfg.ShutdownTimeout)
		r.abandoned.Store(true)
		r.cancelDelivery()
		r.acks.close()
		r.releaseHeld()
	}
	r.extender.stop()
	r.cancelDelivery()
}

// release puts leased tasks back in their queues, due now.
func (r *run) release(jobs []*job) {
	byQueue := map[string][]broker.Lease{}
	for _, j := range jobs {
		byQueue[j.queue] = append(byQueue[j.queue], broker.Lease{Name: j.leased.Name, Token: j.leased.Token})
		r.w.held.remove(j.queue, j.leased.Name, j.leased.Token)
	}
	r.releaseLeases(byQueue)
}

func (r *run) releaseHeld() {
	r.releaseLeases(r.w.held.snapshot())
}

func (r *run) releaseLeases(byQueue map[string][]broker.Lease) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for q, leases := range byQueue {
		if len(leases) == 0 {
			continue
		}
		if _, err := r.w.b.Extend(ctx, q, r.w.now().UnixMilli(), 0, leases); err != nil {
			r.w.log.Error("return tasks to queue failed; they run again when their lease expires", "queue", q, "tasks", len(leases), "error", err)
		}
	}
}

func isNil(err error) bool { return errors.Is(err, redis.Nil) }
