package taskqueue

import (
	"context"
	"fmt"

	"github.com/redelay/redelay/internal/broker"
)

// Add adds t to queue ("" means "default") and returns a copy with Method, Name, Path and
// ETA filled in; t itself is not changed. When t's IdempotencyKey is already taken, Add adds
// nothing and returns the copy with the Name of the task that took it. Errors:
// ErrTaskAlreadyAdded for a name that is taken or tombstoned, a *ValidationError or a
// bad-method error for a task that cannot be added (nothing is written), or the Redis error.
//
// Concurrent Adds to the same queue share round trips: a call made while others are in
// flight waits for them, then goes with every call that arrived meanwhile, in one script.
// If ctx ends while its call is in flight, Add returns ctx's error and the task may have been
// added, as with any request whose answer did not arrive.
func (c *Client) Add(ctx context.Context, t *Task, queue string) (*Task, error) {
	q, err := queueName(queue)
	if err != nil {
		return nil, err
	}
	p, err := c.prepare(t, q, c.now())
	if err != nil {
		return nil, err
	}
	res, err := c.enqueue(ctx, q, p.task)
	switch {
	case err != nil:
		return nil, fmt.Errorf("taskqueue: add to %s: %w", q, err)
	case res.Existing != "":
		p.out.Name = res.Existing
	case !res.Added:
		return nil, ErrTaskAlreadyAdded
	}
	return p.out, nil
}

// AddMulti adds tasks to queue in one round trip and one script. When any task is invalid
// it writes nothing and returns a MultiError whose entries say which tasks are wrong and
// why. Otherwise every task is added except those whose name is taken: the returned slice
// holds the filled-in copy of every task, in order, and the MultiError holds
// ErrTaskAlreadyAdded at the index of each duplicate.
func (c *Client) AddMulti(ctx context.Context, tasks []*Task, queue string) ([]*Task, error) {
	q, err := queueName(queue)
	if err != nil {
		return nil, err
	}
	now := c.now()
	out := make([]*Task, len(tasks))
	stored := make([]broker.NewTask, len(tasks))
	var bad MultiError
	for i, t := range tasks {
		p, err := c.prepare(t, q, now)
		if err != nil {
			if bad == nil {
				bad = make(MultiError, len(tasks))
			}
			bad[i] = err
			continue
		}
		out[i], stored[i] = p.out, p.task
	}
	if bad != nil {
		return nil, bad
	}
	if len(tasks) == 0 {
		return out, nil
	}
	added, err := c.b.Enqueue(ctx, q, now.UnixMilli(), stored)
	if err != nil {
		return nil, fmt.Errorf("taskqueue: add to %s: %w", q, err)
	}
	var dup MultiError
	for i, res := range added {
		if res.Existing != "" {
			out[i].Name = res.Existing
			continue
		}
		if !res.Added {
			if dup == nil {
				dup = make(MultiError, len(tasks))
			}
			dup[i] = ErrTaskAlreadyAdded
		}
	}
	if dup != nil {
		return out, dup
	}
	return out, nil
}

// Delete removes t (by Name) from queue, whether it is waiting, leased or dead, and keeps
// its name taken for Config.TombstoneTTL. Errors: ErrTaskNotFound.
func (c *Client) Delete(ctx context.Context, t *Task, queue string) error {
	err := c.DeleteMulti(ctx, []*Task{t}, queue)
	if me, ok := err.(MultiError); ok {
		return me[0]
	}
	return err
}

// DeleteMulti removes tasks by Name from queue. When any task is invalid (nil, or a bad
// Name) it deletes nothing and the MultiError says which. Otherwise each task is
// independent: the MultiError holds ErrTaskNotFound at the index of each task not found.
func (c *Client) DeleteMulti(ctx context.Context, tasks []*Task, queue string) error {
	q, err := queueName(queue)
	if err != nil {
		return err
	}
	var me MultiError
	fail := func(i int, err error) {
		if me == nil {
			me = make(MultiError, len(tasks))
		}
		me[i] = err
	}
	names := make([]string, 0, len(tasks))
	idx := make([]int, 0, len(tasks))
	for i, t := range tasks {
		if t == nil {
			fail(i, invalid("task", "nil task"))
			continue
		}
		if err := checkTaskName(t.Name); err != nil {
			fail(i, err)
			continue
		}
		names = append(names, t.Name)
		idx = append(idx, i)
	}
	if me != nil {
		return me
	}
	if len(names) > 0 {
		deleted, err := c.b.Delete(ctx, q, c.now().UnixMilli(), c.cfg.TombstoneTTL.Milliseconds(), names)
		if err != nil {
			return fmt.Errorf("taskqueue: delete from %s: %w", q, err)
		}
		for j, ok := range deleted {
			if !ok {
				fail(idx[j], ErrTaskNotFound)
			}
		}
	}
	if me != nil {
		return me
	}
	return nil
}

// Purge removes every task of queue: waiting, leased and dead. Tombstones stay.
func (c *Client) Purge(ctx context.Context, queue string) error {
	q, err := queueName(queue)
	if err != nil {
		return err
	}
	if err := c.b.Purge(ctx, q, c.now().UnixMilli(), c.cfg.ResultTTL.Milliseconds()); err != nil {
		return fmt.Errorf("taskqueue: purge %s: %w", q, err)
	}
	return nil
}
