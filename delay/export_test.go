package delay

import "github.com/redelay/redelay/taskqueue"

// TaskForKey returns a task that calls the function registered under key with args, made
// as if fn were that function. It registers nothing, so tests can make tasks for keys no
// function has, or for a signature the registered function no longer has.
func TaskForKey(key string, fn any, args ...any) (*taskqueue.Task, error) {
	f := newFunction(key, fn)
	if f.err != nil {
		return nil, f.err
	}
	p, err := f.sig.encode(key, args)
	if err != nil {
		return nil, err
	}
	return &taskqueue.Task{Path: Path, Payload: p}, nil
}

// ErrFirstArg is the registration error of a function whose first parameter is not a
// context.Context, for tests that compare MustRegister's panic value with it.
var ErrFirstArg = errFirstArg
