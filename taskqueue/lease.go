package taskqueue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redelay/redelay/internal/broker"
)

// Limits of the pull-queue calls.
const (
	MaxLeaseTasks = 1000
	MaxLeaseTime  = 7 * 24 * 60 * 60 // seconds
)

// Lease leases up to maxTasks due pull tasks of queue for leaseTime seconds. Each returned
// task has its Payload, Name, Tag, Method "PULL", RetryCount (times leased, this lease
// included) and ETA (the lease expiry). A leased task is invisible to other leases until its
// lease ends, ModifyLease changes it, or it is deleted. A task with RetryOptions whose
// RetryLimit (and AgeLimit, when set) its leases have exceeded is moved to the dead tasks
// instead of being returned.
func (c *Client) Lease(ctx context.Context, maxTasks int, queue string, leaseTime int) ([]*Task, error) {
	return c.lease(ctx, maxTasks, queue, leaseTime, broker.PullAny, "")
}

// LeaseByTag is Lease restricted to tasks tagged tag; with tag "" it leases tasks with the
// same tag as the earliest due task.
func (c *Client) LeaseByTag(ctx context.Context, maxTasks int, queue string, leaseTime int, tag string) ([]*Task, error) {
	mode := broker.PullTag
	if tag == "" {
		mode = broker.PullEarliestTag
	}
	return c.lease(ctx, maxTasks, queue, leaseTime, mode, tag)
}

func (c *Client) lease(ctx context.Context, maxTasks int, queue string, leaseTime int, mode, tag string) ([]*Task, error) {
	q, err := queueName(queue)
	if err != nil {
		return nil, err
	}
	if maxTasks < 1 || maxTasks > MaxLeaseTasks {
		return nil, invalid("maxTasks", "%d is not between 1 and %d", maxTasks, MaxLeaseTasks)
	}
	if leaseTime < 1 || leaseTime > MaxLeaseTime {
		return nil, invalid("leaseTime", "%d seconds is not between 1 and %d", leaseTime, MaxLeaseTime)
	}
	now := c.now()
	leased, err := c.b.LeasePull(ctx, q, now.UnixMilli(), maxTasks, int64(leaseTime)*1000, mode, tag)
	if err != nil {
		return nil, fmt.Errorf("taskqueue: lease from %s: %w", q, err)
	}
	expiry := time.UnixMilli(now.UnixMilli() + int64(leaseTime)*1000)
	out := make([]*Task, 0, len(leased))
	for _, l := range leased {
		env, err := broker.DecodeEnvelope(l.Envelope)
		if err != nil {
			c.buryUndecodable(ctx, q, l, err)
			continue
		}
		if env.Retry != nil {
			age := time.Duration(now.UnixMilli()-env.Enqueued) * time.Millisecond
			if _, ok := env.Retry.Next(int(l.Token)-1, age); !ok {
				env.Reason = fmt.Sprintf("retry limit exceeded: leased %d times", l.Token-1)
				env.Attempts = int32(l.Token - 1) // this lease was never handed out
				env.Died = now.UnixMilli()
				if err := c.bury(ctx, q, l.Name, env); err != nil {
					return nil, err
				}
				continue
			}
		}
		out = append(out, &Task{
			Name:         l.Name,
			Payload:      env.Payload,
			Method:       methodPull,
			Tag:          l.Tag,
			ETA:          expiry,
			RetryCount:   int32(l.Token),
			RetryOptions: retryFromBroker(env.Retry),
		})
	}
	return out, nil
}

// bury moves a task to the dead tasks with its final envelope.
func (c *Client) bury(ctx context.Context, queue, name string, env *broker.Envelope) error {
	b, err := broker.EncodeEnvelope(env)
	if err != nil {
		return err
	}
	if _, err := c.b.Bury(ctx, queue, c.now().UnixMilli(), name, 0, b, nil); err != nil {
		return fmt.Errorf("taskqueue: %w", err)
	}
	return nil
}

func (c *Client) buryUndecodable(ctx context.Context, queue string, l broker.Leased, cause error) {
	env := &broker.Envelope{Reason: "undecodable task: " + cause.Error(), Died: c.now().UnixMilli()}
	if err := c.bury(ctx, queue, l.Name, env); err != nil {
		c.cfg.Logger.Error("bury undecodable task", "queue", queue, "task", l.Name, "error", err)
	}
}

// ModifyLease changes the lease of t, a task returned by Lease, to leaseTime seconds from
// now and sets t.ETA to the new expiry. leaseTime 0 makes the task leasable again at once.
// t.ETA proves the lease is held. Errors: ErrTaskNotFound, ErrLeaseExpired when t.ETA is not
// the current lease or the lease ran out.
func (c *Client) ModifyLease(ctx context.Context, t *Task, queue string, leaseTime int) error {
	q, err := queueName(queue)
	if err != nil {
		return err
	}
	if t == nil {
		return invalid("task", "nil task")
	}
	if err := checkTaskName(t.Name); err != nil {
		return err
	}
	if leaseTime < 0 || leaseTime > MaxLeaseTime {
		return invalid("leaseTime", "%d seconds is not between 0 and %d", leaseTime, MaxLeaseTime)
	}
	exp, err := c.b.ModifyLease(ctx, q, c.now().UnixMilli(), t.Name, t.ETA.UnixMilli(), int64(leaseTime)*1000)
	switch {
	case errors.Is(err, broker.ErrNotFound):
		return ErrTaskNotFound
	case errors.Is(err, broker.ErrLeaseExpired):
		return ErrLeaseExpired
	case err != nil:
		return fmt.Errorf("taskqueue: %w", err)
	}
	t.ETA = time.UnixMilli(exp)
	return nil
}
