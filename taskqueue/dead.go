package taskqueue

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/redelay/redelay/internal/broker"
)

// DeadTask is a task that will not run again unless requeued: it ran out of retries, failed
// permanently, or could not be decoded or routed.
type DeadTask struct {
	// Task is the task as it was added: Name, Path, Method, Payload, Header, Tag, ETA and
	// RetryOptions.
	Task *Task
	// Reason says why the task is dead.
	Reason string
	// Attempts is how many times the task was delivered or leased.
	Attempts int
	// LastStatus is the status code of the last delivery (0 when none answered).
	LastStatus int
	// LastError is the error of the last failed delivery.
	LastError string
	// Died is when the task became dead.
	Died time.Time
}

// DeadTasks lists up to limit dead tasks of queue, most recent first, after skipping offset.
func (c *Client) DeadTasks(ctx context.Context, queue string, offset, limit int) ([]*DeadTask, error) {
	q, err := queueName(queue)
	if err != nil {
		return nil, err
	}
	if offset < 0 || limit < 1 {
		return nil, invalid("limit", "offset %d and limit %d: want offset >= 0 and limit >= 1", offset, limit)
	}
	list, err := c.b.DeadList(ctx, q, offset, limit)
	if err != nil {
		return nil, fmt.Errorf("taskqueue: %w", err)
	}
	out := make([]*DeadTask, 0, len(list))
	for _, d := range list {
		env, err := broker.DecodeEnvelope(d.Envelope)
		if err != nil {
			env = &broker.Envelope{Reason: "undecodable task: " + err.Error()}
		}
		out = append(out, &DeadTask{
			Task:       taskFromEnvelope(q, d.Name, env),
			Reason:     env.Reason,
			Attempts:   int(env.Attempts),
			LastStatus: env.LastStatus,
			LastError:  env.LastError,
			Died:       time.UnixMilli(d.Died),
		})
	}
	return out, nil
}

// Requeue moves dead tasks of queue back, due now, with their history cleared: they get
// their full retry policy again. The MultiError holds ErrTaskNotFound for each name that is
// not a dead task.
func (c *Client) Requeue(ctx context.Context, queue string, names ...string) error {
	q, err := queueName(queue)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := checkTaskName(n); err != nil {
			return err
		}
	}
	if len(names) == 0 {
		return nil
	}
	envs, err := c.b.DeadGet(ctx, q, names)
	if err != nil {
		return fmt.Errorf("taskqueue: %w", err)
	}
	now := c.now().UnixMilli()
	me := make(MultiError, len(names))
	failed := false
	var req []broker.Requeued
	var idx []int
	for i, raw := range envs {
		env, err := broker.DecodeEnvelope(raw)
		if raw == nil || err != nil {
			me[i], failed = ErrTaskNotFound, true
			continue
		}
		fresh := *env
		fresh.FirstTry, fresh.Failures, fresh.LastStatus, fresh.LastError = 0, 0, 0, ""
		fresh.Attempts, fresh.Reason, fresh.Died = 0, "", 0
		fresh.ETA = now
		b, err := broker.EncodeEnvelope(&fresh)
		if err != nil {
			return err
		}
		req = append(req, broker.Requeued{Name: names[i], Envelope: b, Pull: env.Pull, Tag: env.Tag})
		idx = append(idx, i)
	}
	if len(req) > 0 {
		done, err := c.b.Requeue(ctx, q, now, req)
		if err != nil {
			return fmt.Errorf("taskqueue: %w", err)
		}
		for j, ok := range done {
			if !ok {
				me[idx[j]], failed = ErrTaskNotFound, true
			}
		}
	}
	if failed {
		return me
	}
	return nil
}

// taskFromEnvelope rebuilds the task as added from its stored form.
func taskFromEnvelope(queue, name string, env *broker.Envelope) *Task {
	t := &Task{
		Name:         name,
		Path:         env.Path,
		Method:       env.Method,
		Payload:      env.Payload,
		Tag:          env.Tag,
		RetryOptions: retryFromBroker(env.Retry),
	}
	if env.ETA != 0 {
		t.ETA = time.UnixMilli(env.ETA)
	}
	if env.Header != nil {
		t.Header = http.Header(env.Header)
	}
	switch {
	case env.Pull:
		t.Method = methodPull
	case t.Method == "":
		t.Method = "POST"
	}
	if !env.Pull && t.Path == "" {
		t.Path = "/_ah/queue/" + queue
	}
	return t
}
