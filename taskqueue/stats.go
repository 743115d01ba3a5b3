package taskqueue

import (
	"context"
	"fmt"
	"time"
)

// QueueStatistics describes one queue.
type QueueStatistics struct {
	// Tasks is the number of tasks waiting to run: ready, scheduled and leased.
	Tasks int
	// OldestETA is the earliest due time among them (a leased task counts with its lease
	// expiry); zero when there are none.
	OldestETA time.Time
	// Executed1Minute is the number of tasks that finished successfully in the last minute.
	Executed1Minute int
	// InFlight is the number of push tasks being delivered now.
	InFlight int
	// EnforcedRate is the rate limit applied to the queue, in tasks per second. redelay
	// does not rate-limit queues, so it is always 0, meaning no limit.
	EnforcedRate float64
	// Dead is the number of dead tasks kept for inspection (see DeadTasks).
	Dead int
}

// QueueStats returns the statistics of each queue ("" means "default"), in order, in one
// round trip.
func (c *Client) QueueStats(ctx context.Context, queues []string) ([]QueueStatistics, error) {
	names := make([]string, len(queues))
	for i, q := range queues {
		n, err := queueName(q)
		if err != nil {
			return nil, err
		}
		names[i] = n
	}
	if len(names) == 0 {
		return []QueueStatistics{}, nil
	}
	st, err := c.b.Stats(ctx, c.now().UnixMilli(), names)
	if err != nil {
		return nil, fmt.Errorf("taskqueue: queue stats: %w", err)
	}
	out := make([]QueueStatistics, len(st))
	for i, s := range st {
		out[i] = QueueStatistics{
			Tasks:           s.Tasks,
			Executed1Minute: s.Executed,
			InFlight:        s.InFlight,
			Dead:            s.Dead,
		}
		if s.Oldest != 0 {
			out[i].OldestETA = time.UnixMilli(s.Oldest)
		}
	}
	return out, nil
}
