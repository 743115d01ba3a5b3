package taskqueue

import (
	"context"

	"github.com/redelay/redelay/internal/clientinfo"
)

func init() {
	clientinfo.Of = func(client any) clientinfo.Info {
		c := client.(*Client)
		return clientinfo.Info{Broker: c.b, Now: c.cfg.Now, TombstoneTTL: c.cfg.TombstoneTTL, ResultTTL: c.cfg.ResultTTL, Logger: c.cfg.Logger}
	}
}

// The package-level functions run the Client method of the same name on the client
// FromContext(ctx) returns.

// Add is Client.Add on the client of ctx.
func Add(ctx context.Context, t *Task, queue string) (*Task, error) {
	return withClient(ctx, func(c *Client) (*Task, error) { return c.Add(ctx, t, queue) })
}

// AddMulti is Client.AddMulti on the client of ctx.
func AddMulti(ctx context.Context, tasks []*Task, queue string) ([]*Task, error) {
	return withClient(ctx, func(c *Client) ([]*Task, error) { return c.AddMulti(ctx, tasks, queue) })
}

// Delete is Client.Delete on the client of ctx.
func Delete(ctx context.Context, t *Task, queue string) error {
	_, err := withClient(ctx, func(c *Client) (struct{}, error) { return struct{}{}, c.Delete(ctx, t, queue) })
	return err
}

// DeleteMulti is Client.DeleteMulti on the client of ctx.
func DeleteMulti(ctx context.Context, tasks []*Task, queue string) error {
	_, err := withClient(ctx, func(c *Client) (struct{}, error) { return struct{}{}, c.DeleteMulti(ctx, tasks, queue) })
	return err
}

// Purge is Client.Purge on the client of ctx.
func Purge(ctx context.Context, queue string) error {
	_, err := withClient(ctx, func(c *Client) (struct{}, error) { return struct{}{}, c.Purge(ctx, queue) })
	return err
}

// QueueStats is Client.QueueStats on the client of ctx.
func QueueStats(ctx context.Context, queues []string) ([]QueueStatistics, error) {
	return withClient(ctx, func(c *Client) ([]QueueStatistics, error) { return c.QueueStats(ctx, queues) })
}

// Lease is Client.Lease on the client of ctx.
func Lease(ctx context.Context, maxTasks int, queue string, leaseTime int) ([]*Task, error) {
	return withClient(ctx, func(c *Client) ([]*Task, error) { return c.Lease(ctx, maxTasks, queue, leaseTime) })
}

// LeaseByTag is Client.LeaseByTag on the client of ctx.
func LeaseByTag(ctx context.Context, maxTasks int, queue string, leaseTime int, tag string) ([]*Task, error) {
	return withClient(ctx, func(c *Client) ([]*Task, error) { return c.LeaseByTag(ctx, maxTasks, queue, leaseTime, tag) })
}

// ModifyLease is Client.ModifyLease on the client of ctx.
func ModifyLease(ctx context.Context, t *Task, queue string, leaseTime int) error {
	_, err := withClient(ctx, func(c *Client) (struct{}, error) { return struct{}{}, c.ModifyLease(ctx, t, queue, leaseTime) })
	return err
}

func withClient[T any](ctx context.Context, fn func(*Client) (T, error)) (T, error) {
	c, err := FromContext(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	return fn(c)
}
