package delay

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"reflect"

	"github.com/redelay/redelay/taskqueue"
)

// ResultContentType is the Content-Type of a successful delivery's body that carries a
// delayed function's result.
const ResultContentType = "application/x-redelay-gob"

// ErrPermanent matches, with errors.Is, the error of a task that failed permanently: one
// whose function returned an error made by Permanent, or that could not run at all.
var ErrPermanent = errors.New("delay: permanent failure")

// Is makes errors.Is(Permanent(err), ErrPermanent) true.
func (e *PermanentError) Is(target error) bool { return target == ErrPermanent }

// TaskError is the error of a task that is dead: Invoke and Result return it.
type TaskError struct {
	Queue, Name string
	// LastError is the error text of the task's last attempt.
	LastError string
	// Permanent is true when the task failed permanently rather than running out of
	// retries; errors.Is(err, ErrPermanent) is then true.
	Permanent bool
	// Reason says why the task is dead.
	Reason string
}

// Error says which task failed and with what error.
func (e *TaskError) Error() string {
	return fmt.Sprintf("delay: task %s in queue %s failed: %s", e.Name, e.Queue, e.LastError)
}

// Is reports whether target is ErrPermanent and the task failed permanently.
func (e *TaskError) Is(target error) bool { return target == ErrPermanent && e.Permanent }

// Enqueue is Call returning the added task, whose Name identifies the call (for
// taskqueue's Client.Status and Wait).
func (f *Function) Enqueue(ctx context.Context, args ...any) (*taskqueue.Task, error) {
	t, err := f.Task(args...)
	if err != nil {
		return nil, err
	}
	return taskqueue.Add(ctx, t, "")
}

// Invoke calls f with args through the default queue and waits for the result: the
// function's first result when it returns (T, error), decoded into T. When the task dies
// it returns a *TaskError (errors.Is(err, ErrPermanent) tells a permanent failure); when
// ctx ends first it returns ctx's error and the task goes on.
func Invoke[T any](ctx context.Context, f *Function, args ...any) (T, error) {
	var zero T
	t, err := f.Enqueue(ctx, args...)
	if err != nil {
		return zero, err
	}
	c, err := taskqueue.FromContext(ctx)
	if err != nil {
		return zero, err
	}
	st, err := c.Wait(ctx, "", t.Name)
	if err != nil {
		return zero, err
	}
	return Result[T](st)
}

// Result returns the result of a finished task of a delayed function: its first result,
// decoded into T, when it succeeded (T's zero value when the function has no result, or
// the task had DiscardResult), or a *TaskError when it is dead.
func Result[T any](st *taskqueue.Status) (T, error) {
	var zero T
	switch {
	case st == nil:
		return zero, errors.New("delay: no task status")
	case st.State == taskqueue.StateDead:
		return zero, &TaskError{Queue: st.Queue, Name: st.Name, LastError: st.LastError, Permanent: st.Permanent, Reason: st.Reason}
	case st.State != taskqueue.StateSucceeded:
		return zero, fmt.Errorf("delay: task %s in queue %s has not finished: %s", st.Name, st.Queue, st.State)
	case len(st.Result) == 0:
		return zero, nil
	}
	box := reflect.New(resultBox(reflect.TypeFor[T]()))
	if err := gob.NewDecoder(bytes.NewReader(st.Result)).DecodeValue(box); err != nil {
		return zero, fmt.Errorf("delay: decode result of task %s as %T: %w", st.Name, zero, err)
	}
	return box.Elem().Field(0).Interface().(T), nil
}

// resultBox is the struct a result of type t travels in: a field of the declared type lets
// gob carry interfaces and nil pointers, which it cannot send bare.
func resultBox(t reflect.Type) reflect.Type {
	return reflect.StructOf([]reflect.StructField{{Name: "V", Type: t}})
}

// encodeResult returns the encoded result of a call whose results are out, or nil when the
// function returns nothing but an error.
func encodeResult(ft reflect.Type, out []reflect.Value) ([]byte, error) {
	if ft.NumOut() == 0 || ft.Out(0) == errorType {
		return nil, nil
	}
	box := reflect.New(resultBox(ft.Out(0))).Elem()
	box.Field(0).Set(out[0])
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).EncodeValue(box); err != nil {
		return nil, fmt.Errorf("delay: gob encoding of the result failed: %w", err)
	}
	return buf.Bytes(), nil
}
