package broker

import "time"

// Queue defaults of the retry policy, used where a task's Retry leaves a field unset.
const (
	DefaultRetryLimit   = 25
	DefaultMinBackoff   = 100 * time.Millisecond
	DefaultMaxBackoff   = time.Hour
	DefaultMaxDoublings = 16
)

// Next decides what follows a failed attempt. retries is how many retries the task had
// before this attempt (0 after the first attempt fails); age is the time since its first
// attempt. It returns the wait before the next attempt, or ok false when the task is out of
// retries: past its retry limit and, when an age limit is set, past that too.
//
// The wait follows Cloud Tasks: MinBackoff doubles MaxDoublings times, then grows by that
// last doubled step each retry, capped at MaxBackoff (10s, 300s, 3 doublings: 10, 20, 40,
// 80, 160, 240, 300, 300 … s).
func (r *Retry) Next(retries int, age time.Duration) (wait time.Duration, ok bool) {
	var p Retry
	if r != nil {
		p = *r
	}
	limit := int64(DefaultRetryLimit)
	if p.Limit > 0 || p.ApplyLimit {
		limit = int64(p.Limit)
	}
	if int64(retries) >= limit && (p.AgeLimit <= 0 || age >= time.Duration(p.AgeLimit)*time.Millisecond) {
		return 0, false
	}
	minB, maxB := DefaultMinBackoff, DefaultMaxBackoff
	if p.MinBackoff > 0 {
		minB = time.Duration(p.MinBackoff) * time.Millisecond
	}
	if p.MaxBackoff > 0 {
		maxB = time.Duration(p.MaxBackoff) * time.Millisecond
	}
	doublings := int64(DefaultMaxDoublings)
	if p.MaxDoublings > 0 || p.ApplyDoubl {
		doublings = int64(p.MaxDoublings)
	}
	n := int64(retries)
	if n <= doublings {
		wait = shiftCapped(minB, n, maxB)
	} else {
		step := shiftCapped(minB, doublings, maxB)
		if step >= maxB || n-doublings+1 > int64(maxB/step) {
			return maxB, true
		}
		wait = step * time.Duration(n-doublings+1)
	}
	return min(wait, maxB), true
}

// shiftCapped returns d*2^n, or limit when that is larger (without overflowing).
func shiftCapped(d time.Duration, n int64, limit time.Duration) time.Duration {
	for ; n > 0; n-- {
		if d >= limit {
			return limit
		}
		d *= 2
	}
	return min(d, limit)
}
