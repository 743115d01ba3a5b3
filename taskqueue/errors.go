package taskqueue

import (
	"errors"
	"fmt"
)

var (
	// ErrTaskAlreadyAdded is returned by Add and AddMulti for a task whose name is taken by
	// a waiting, running or dead task, or was used by a task that ended or was deleted less
	// than Config.TombstoneTTL ago. Test for it with errors.Is.
	ErrTaskAlreadyAdded = errors.New("taskqueue: task has already been added")

	// ErrTaskNotFound is returned by Delete, ModifyLease and Status for a task that is
	// not in the queue.
	ErrTaskNotFound = errors.New("taskqueue: task not found")

	// ErrLeaseExpired is returned by ModifyLease when the lease the task carries (its ETA)
	// is not the current one, or has run out.
	ErrLeaseExpired = errors.New("taskqueue: lease expired or not held")
)

// MultiError holds one error per task of a batch call (AddMulti, DeleteMulti); nil entries
// mark the tasks that succeeded.
type MultiError []error

// Error returns the first error's text and how many others there are.
func (m MultiError) Error() string {
	var first error
	n := 0
	for _, e := range m {
		if e != nil {
			if first == nil {
				first = e
			}
			n++
		}
	}
	switch n {
	case 0:
		return "(0 errors)"
	case 1:
		return first.Error()
	case 2:
		return first.Error() + " (and 1 other error)"
	}
	return fmt.Sprintf("%s (and %d other errors)", first.Error(), n-1)
}

// Unwrap returns the non-nil errors, so errors.Is(err, ErrTaskAlreadyAdded) is true when
// any task of the batch was a duplicate.
func (m MultiError) Unwrap() []error {
	out := make([]error, 0, len(m))
	for _, e := range m {
		if e != nil {
			out = append(out, e)
		}
	}
	return out
}

// ValidationError says what is wrong with a task or a call's arguments; nothing was written.
type ValidationError struct {
	Field  string // the offending field or argument, such as "Name" or "queue"
	Reason string
}

// Error says which field is wrong and why.
func (e *ValidationError) Error() string {
	return "taskqueue: invalid " + e.Field + ": " + e.Reason
}

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// badMethodError keeps App Engine's wording for an unknown method.
type badMethodError struct{ method string }

func (e *badMethodError) Error() string { return fmt.Sprintf("taskqueue: bad method %q", e.method) }
