package taskqueue

import (
	"time"

	"github.com/redelay/redelay/internal/broker"
)

// Queue defaults of the retry policy: what a RetryOptions field left zero means.
const (
	// DefaultRetryLimit is how many times a failed task is retried.
	DefaultRetryLimit = broker.DefaultRetryLimit
	// DefaultMinBackoff is the wait before the first retry.
	DefaultMinBackoff = broker.DefaultMinBackoff
	// DefaultMaxBackoff caps the wait between retries.
	DefaultMaxBackoff = broker.DefaultMaxBackoff
	// DefaultMaxDoublings is how many times the wait doubles before it grows linearly.
	DefaultMaxDoublings = broker.DefaultMaxDoublings
)

// RetryOptions is a task's retry policy. A zero field means the queue default (see the
// Default constants; there is no age limit by default).
//
// After a failed attempt the wait starts at MinBackoff, doubles MaxDoublings times, then
// grows by that last doubled step each retry, capped at MaxBackoff: with MinBackoff 10s,
// MaxBackoff 300s and MaxDoublings 3 the waits are 10, 20, 40, 80, 160, 240, 300, 300 … s.
type RetryOptions struct {
	// RetryLimit is how many retries a push task gets after its first attempt, or how many
	// times a pull task can be leased. When AgeLimit is also set, the task ends only when
	// both are exceeded. Zero means DefaultRetryLimit unless ApplyZeroRetryLimit is set.
	RetryLimit int32
	// AgeLimit is how long after its first attempt a push task may still be retried, to the
	// millisecond. Zero means no age limit.
	AgeLimit time.Duration
	// MinBackoff is the wait before the first retry. Zero means DefaultMinBackoff.
	MinBackoff time.Duration
	// MaxBackoff caps the wait between retries. Zero means DefaultMaxBackoff.
	MaxBackoff time.Duration
	// MaxDoublings is how many times the wait doubles. Zero means DefaultMaxDoublings
	// unless ApplyZeroMaxDoublings is set.
	MaxDoublings int32
	// ApplyZeroMaxDoublings makes a zero MaxDoublings mean zero: the wait grows linearly
	// from the start.
	ApplyZeroMaxDoublings bool
	// ApplyZeroRetryLimit makes a zero RetryLimit mean zero: a failed task is never
	// retried. NoRetry returns such options.
	ApplyZeroRetryLimit bool
}

// NoRetry returns options under which a failed task is not retried: its first failure
// makes it dead.
func NoRetry() *RetryOptions {
	return &RetryOptions{ApplyZeroRetryLimit: true}
}

// Backoff returns the wait before retry number n (1 for the first retry) under o, and
// false when o allows no such retry given the task's age. A nil o means the defaults.
func (o *RetryOptions) Backoff(n int, age time.Duration) (time.Duration, bool) {
	r, err := o.toBroker()
	if err != nil {
		return 0, false
	}
	return r.Next(n-1, age)
}

func (o *RetryOptions) toBroker() (*broker.Retry, error) {
	if o == nil {
		return nil, nil
	}
	switch {
	case o.RetryLimit < 0:
		return nil, invalid("RetryOptions.RetryLimit", "negative value %d", o.RetryLimit)
	case o.AgeLimit < 0:
		return nil, invalid("RetryOptions.AgeLimit", "negative value %s", o.AgeLimit)
	case o.MinBackoff < 0:
		return nil, invalid("RetryOptions.MinBackoff", "negative value %s", o.MinBackoff)
	case o.MaxBackoff < 0:
		return nil, invalid("RetryOptions.MaxBackoff", "negative value %s", o.MaxBackoff)
	case o.MaxDoublings < 0:
		return nil, invalid("RetryOptions.MaxDoublings", "negative value %d", o.MaxDoublings)
	case o.MinBackoff > 0 && o.MaxBackoff > 0 && o.MinBackoff > o.MaxBackoff:
		return nil, invalid("RetryOptions.MinBackoff", "%s is more than MaxBackoff %s", o.MinBackoff, o.MaxBackoff)
	}
	return &broker.Retry{
		Limit:        o.RetryLimit,
		ApplyLimit:   o.ApplyZeroRetryLimit,
		AgeLimit:     o.AgeLimit.Milliseconds(),
		MinBackoff:   o.MinBackoff.Milliseconds(),
		MaxBackoff:   o.MaxBackoff.Milliseconds(),
		MaxDoublings: o.MaxDoublings,
		ApplyDoubl:   o.ApplyZeroMaxDoublings,
	}, nil
}

func retryFromBroker(r *broker.Retry) *RetryOptions {
	if r == nil {
		return nil
	}
	return &RetryOptions{
		RetryLimit:            r.Limit,
		ApplyZeroRetryLimit:   r.ApplyLimit,
		AgeLimit:              time.Duration(r.AgeLimit) * time.Millisecond,
		MinBackoff:            time.Duration(r.MinBackoff) * time.Millisecond,
		MaxBackoff:            time.Duration(r.MaxBackoff) * time.Millisecond,
		MaxDoublings:          r.MaxDoublings,
		ApplyZeroMaxDoublings: r.ApplyDoubl,
	}
}
