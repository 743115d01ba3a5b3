package taskqueue

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/redelay/redelay/internal/broker"
)

// States of a task, as Status reports them.
const (
	StateWaiting   = "waiting"   // not delivered yet (scheduled or due)
	StateRunning   = "running"   // a delivery is under way
	StateRetrying  = "retrying"  // delivered before, waiting for its next attempt
	StateSucceeded = "succeeded" // done; kept for Config.ResultTTL
	StateDead      = "dead"      // will not run again unless requeued
)

// Status is where a task is and what became of it.
type Status struct {
	Queue, Name string
	// State is StateWaiting, StateRunning, StateRetrying, StateSucceeded or StateDead.
	State string
	// Attempts is how many deliveries were made (or leases, for pull tasks).
	Attempts int
	// LastError is the error of the last failed attempt, if any.
	LastError string
	// Permanent is true for a dead task that failed with a permanent error.
	Permanent bool
	// Enqueued is when the task was added; Started when its first attempt began (zero
	// before the first attempt ended); Finished when it succeeded or died.
	Enqueued, Started, Finished time.Time
	// Result is the body of the successful response (a delayed func's encoded result), or
	// of the final failing response of a dead task; nil when there was none or the task
	// had DiscardResult.
	Result []byte
	// Code is the status code of the delivery that finished the task (0 when none answered).
	Code int
	// Header holds the response headers of that delivery.
	Header http.Header
	// Reason says why a dead task is dead.
	Reason string
}

// Done reports whether the task has finished: succeeded or dead.
func (s *Status) Done() bool { return s.State == StateSucceeded || s.State == StateDead }

// Status returns the status of the task named name in queue. A finished task's status is
// kept for Config.ResultTTL (a dead task's until it is deleted or requeued). Errors:
// ErrTaskNotFound when the task is unknown or its status expired.
func (c *Client) Status(ctx context.Context, queue, name string) (*Status, error) {
	q, err := queueName(queue)
	if err != nil {
		return nil, err
	}
	if err := checkTaskName(name); err != nil {
		return nil, err
	}
	ts, err := c.b.Status(ctx, q, c.now().UnixMilli(), name, c.cfg.ResultTTL.Milliseconds())
	if err != nil {
		return nil, fmt.Errorf("taskqueue: %w", err)
	}
	st := &Status{Queue: q, Name: name}
	switch ts.Where {
	case broker.InTasks:
		env, err := broker.DecodeEnvelope(ts.Envelope)
		if err != nil {
			return nil, fmt.Errorf("taskqueue: status of %q: %w", name, err)
		}
		st.Attempts = int(ts.Dispatches)
		switch {
		case ts.LeasedTill > 0 && !env.Pull:
			st.State = StateRunning
		case ts.Dispatches > 0:
			st.State = StateRetrying
		default:
			st.State = StateWaiting
		}
		st.LastError, st.Code = env.LastError, env.LastStatus
		st.Enqueued, st.Started = msTime(env.Enqueued), msTime(env.FirstTry)
	case broker.InDone:
		rec, err := broker.DecodeRecord(ts.Record)
		if err != nil {
			return nil, fmt.Errorf("taskqueue: status of %q: %w", name, err)
		}
		st.State = StateSucceeded
		st.Attempts, st.LastError, st.Code = int(rec.Attempts), rec.LastError, rec.Status
		st.Enqueued, st.Started, st.Finished = msTime(rec.Enqueued), msTime(rec.Started), msTime(rec.Finished)
		st.Result = rec.Result
		if rec.Header != nil {
			st.Header = http.Header(rec.Header)
		}
	case broker.InDead:
		env, err := broker.DecodeEnvelope(ts.Envelope)
		if err != nil {
			env = &broker.Envelope{Reason: "undecodable task: " + err.Error()}
		}
		st.State = StateDead
		st.Attempts, st.LastError, st.Code = int(env.Attempts), env.LastError, env.LastStatus
		st.Permanent, st.Reason = env.Permanent, env.Reason
		st.Enqueued, st.Started, st.Finished = msTime(env.Enqueued), msTime(env.FirstTry), msTime(ts.Died)
		st.Result = env.Result
		if env.ResultHeader != nil {
			st.Header = http.Header(env.ResultHeader)
		}
	default:
		return nil, ErrTaskNotFound
	}
	return st, nil
}

func msTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}
