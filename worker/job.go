package worker

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redelay/redelay/internal/broker"
	"github.com/redelay/redelay/taskqueue"
)

// job is one leased task on its way through a runner. Jobs are recycled once handled:
// nothing keeps one, or its Envelope, after handle returns.
type job struct {
	queue   string
	leased  broker.Leased
	env     *broker.Envelope // &decoded, once handle has decoded it
	decoded broker.Envelope
}

var jobs = sync.Pool{New: func() any { return new(job) }}

// newJob returns a job for task t of queue, recycled when one is free.
func newJob(queue string, t broker.Leased) *job {
	j := jobs.Get().(*job)
	*j = job{queue: queue, leased: t}
	return j
}

// recycle makes j, handled, free for a later task.
func recycle(j *job) {
	*j = job{} // let go of the task's bytes now
	jobs.Put(j)
}

// outcome is what a delivery came to.
type outcome struct {
	status     int           // response status; 0 when no response came (transport error, timeout)
	header     http.Header   // response headers
	result     []byte        // response body (up to maxResultBody)
	duration   time.Duration // of the delivery
	body       string        // start of a failing response's body
	err        error         // why no response came, or why the attempt counts as failed
	permanent  bool          // the response asked not to retry
	retryAfter time.Duration // back-pressure: 503 with Retry-After
}

func (o outcome) ok() bool { return o.err == nil && o.status >= 200 && o.status < 300 }

// errorText is the failure as recorded in the task: the response body, else why no
// response came, else the status.
func (o outcome) errorText() string {
	if b := strings.TrimSpace(o.body); b != "" {
		if o.err != nil {
			return o.err.Error() + ": " + b
		}
		return b
	}
	if o.err != nil {
		return o.err.Error()
	}
	return fmt.Sprintf("status %d", o.status)
}

// handle delivers one task and records the outcome.
func (r *run) handle(j *job) {
	w := r.w
	env := &j.decoded
	j.env = env
	if err := broker.DecodeEnvelopeInto(j.leased.Envelope, env); err != nil {
		*env = broker.Envelope{} // what is left of a failed decode is not the task's
		r.bury(j, env, "undecodable task: "+err.Error(), outcome{permanent: true})
		return
	}
	start := w.now()
	out := w.deliver(r.deliveryCtx, j)
	if r.abandoned.Load() {
		return // Run has returned and put the task back in its queue
	}
	attempt := j.leased.Token
	switch {
	case out.ok():
		r.acks.add(ackItem{queue: j.queue, ack: r.succeeded(j, out, start)})
	case out.permanent:
		r.note(env, out, start)
		w.log.Warn("task failed permanently", "queue", j.queue, "task", j.leased.Name, "attempt", attempt, "error", out.errorText())
		r.bury(j, env, "permanent failure: "+out.errorText(), out)
	case out.retryAfter > 0:
		env.LastStatus, env.LastError = out.status, out.errorText()
		w.log.Info("target busy; retrying later", "queue", j.queue, "task", j.leased.Name, "retry_in", out.retryAfter)
		r.retry(j, env, w.now().Add(out.retryAfter))
	default:
		r.note(env, out, start)
		age := start.Sub(time.UnixMilli(env.FirstTry))
		wait, again := env.Retry.Next(int(attempt)-1, age)
		if !again {
			w.log.Warn("task out of retries", "queue", j.queue, "task", j.leased.Name, "attempt", attempt, "error", out.errorText())
			r.bury(j, env, fmt.Sprintf("out of retries after %d attempts: %s", attempt, out.errorText()), out)
			return
		}
		w.log.Info("task failed; will retry", "queue", j.queue, "task", j.leased.Name, "attempt", attempt, "retry_in", wait, "error", out.errorText())
		r.retry(j, env, w.now().Add(wait))
	}
}

// note records a failed attempt in the envelope.
func (r *run) note(env *broker.Envelope, out outcome, start time.Time) {
	if out.status != 0 {
		env.Failures++
	}
	if env.FirstTry == 0 {
		env.FirstTry = start.UnixMilli()
	}
	env.LastStatus, env.LastError = out.status, clipText(out.errorText(), 1024)
}

func (r *run) retry(j *job, env *broker.Envelope, due time.Time) {
	env.ETA = due.UnixMilli()
	r.persist(j, "reschedule", env, func(ctx context.Context, b []byte) (bool, error) {
		return r.w.b.Retry(ctx, j.queue, r.w.now().UnixMilli(), j.leased.Name, j.leased.Token, b, env.ETA)
	})
}

func (r *run) bury(j *job, env *broker.Envelope, reason string, out outcome) {
	env.Reason, env.Attempts, env.Died = clipText(reason, 2048), int32(j.leased.Token), r.w.now().UnixMilli()
	env.Permanent = out.permanent
	if out.status != 0 && !env.DiscardResult {
		env.Result, env.ResultHeader = out.result[:min(len(out.result), maxDeadBody)], resultHeader(out.header)
	}
	callback := r.callback(j, env, out)
	r.persist(j, "dead-letter", env, func(ctx context.Context, b []byte) (bool, error) {
		return r.w.b.Bury(ctx, j.queue, r.w.now().UnixMilli(), j.leased.Name, j.leased.Token, b, callback)
	})
}

// succeeded returns the ack of a successful delivery, with the task's record and callback.
func (r *run) succeeded(j *job, out outcome, start time.Time) broker.Ack {
	env := j.env
	ack := broker.Ack{Name: j.leased.Name, Token: j.leased.Token, Tombstone: env.Named}
	if r.w.resultTTL > 0 {
		rec := &broker.Record{
			Attempts:  int32(j.leased.Token),
			Enqueued:  env.Enqueued,
			Started:   env.FirstTry,
			Finished:  r.w.now().UnixMilli(),
			Status:    out.status,
			LastError: env.LastError,
		}
		if rec.Started == 0 {
			rec.Started = start.UnixMilli()
		}
		if !env.DiscardResult {
			rec.Header, rec.Result = resultHeader(out.header), out.result
		}
		if b, err := broker.EncodeRecord(rec); err == nil {
			ack.Record = b
		}
	}
	ack.Callback = r.callback(j, env, out)
	return ack
}

// resultHeader keeps the response headers worth returning to a caller.
func resultHeader(h http.Header) map[string][]string {
	if len(h) == 0 {
		return nil
	}
	out := make(map[string][]string, len(h))
	for k, v := range h {
		switch k {
		case "Date", "Content-Length", "Connection", "Keep-Alive", "Transfer-Encoding":
			continue
		}
		out[k] = v
	}
	return out
}

// callback returns the task that POSTs the outcome of j to its CallbackURL, or nil.
func (r *run) callback(j *job, env *broker.Envelope, out outcome) *broker.NewTask {
	if env.CallbackURL == "" {
		return nil
	}
	h := http.Header{}
	for k, v := range resultHeader(out.header) {
		h[k] = v
	}
	h.Set(taskqueue.HeaderFunctionStatus, strconv.Itoa(out.status))
	h.Set(taskqueue.HeaderCallID, j.leased.Name)
	h.Set(taskqueue.HeaderDurationSeconds, strconv.FormatFloat(out.duration.Seconds(), 'f', 6, 64))
	now := r.w.now().UnixMilli()
	cb := &broker.Envelope{
		URL:           env.CallbackURL,
		Header:        h,
		Payload:       out.result,
		Enqueued:      now,
		ETA:           now,
		Callback:      j.leased.Name,
		DiscardResult: true,
	}
	if out.status == 0 {
		cb.Payload = []byte(out.errorText())
	}
	b, err := broker.EncodeEnvelope(cb)
	if err != nil {
		r.w.log.Error("encode callback failed", "queue", j.queue, "task", j.leased.Name, "error", err)
		return nil
	}
	return &broker.NewTask{Name: callbackName(j.leased.Name), Envelope: b, Due: now}
}

// callbackName names the callback task of the task named name.
func callbackName(name string) string {
	return name[:min(len(name), 490)] + "-callback"
}

// persist writes a task's new state, retrying through Redis outages for up to a minute.
// Should it still fail, the lease runs out and the task is delivered again: nothing is lost.
func (r *run) persist(j *job, what string, env *broker.Envelope, write func(context.Context, []byte) (bool, error)) {
	w := r.w
	defer w.held.remove(j.queue, j.leased.Name, j.leased.Token)
	b, err := broker.EncodeEnvelope(env)
	if err != nil {
		w.log.Error("encode task failed", "queue", j.queue, "task", j.leased.Name, "error", err)
		return
	}
	err = retryFor(time.Minute, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done, err := write(ctx, b)
		if err == nil && !done {
			w.log.Info("lease lost before "+what+"; another delivery owns the task", "queue", j.queue, "task", j.leased.Name)
		}
		return err
	})
	if err != nil {
		w.log.Error(what+" failed; the task runs again when its lease expires", "queue", j.queue, "task", j.leased.Name, "error", err)
	}
}

// retryFor calls fn until it succeeds or limit has passed, backing off between calls.
func retryFor(limit time.Duration, fn func() error) error {
	deadline := time.Now().Add(limit)
	var wait time.Duration
	for {
		err := fn()
		if err == nil || time.Now().Add(wait).After(deadline) {
			return err
		}
		wait = nextBackoff(wait)
		time.Sleep(wait)
	}
}

func clipText(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
