package delay

import (
	"errors"
)

var (
	// ErrOutsideDelayFunc is returned by RequestHeaders for a context that does not come
	// from a delayed call. Its text is App Engine's.
	ErrOutsideDelayFunc = errors.New("request headers are only available inside a delay.Func")

	// Registration errors, worded as App Engine words them. Call and Task return them
	// as "delay: func is invalid: <error>"; MustRegister panics with them.
	errNotFunc  = errors.New("not a function")
	errFirstArg = errors.New("first argument must be context.Context")
	errNilFunc  = errors.New("nil function")
)

// PermanentError marks the error of a delayed function as permanent: the task fails at
// once and is not retried. Permanent makes one; errors.As finds one in a chain of wrapped
// errors, so a delayed function may wrap it further.
type PermanentError struct {
	Err error
}

// Error returns the text of the wrapped error.
func (e *PermanentError) Error() string {
	if e.Err == nil {
		return "permanent failure"
	}
	return e.Err.Error()
}

// Unwrap returns the wrapped error.
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err so that a delayed function returning it fails permanently: the task
// is moved to the dead tasks of its queue with err as the reason, without the retries its
// RetryOptions would give it. Permanent(nil) is nil, so `return delay.Permanent(err)` is
// safe when err may be nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// IsPermanent reports whether err, or an error it wraps, was made by Permanent.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}
