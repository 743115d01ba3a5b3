package delay

import (
	"context"
	"fmt"
	"reflect"
	"sync"

	"github.com/redelay/redelay/taskqueue"
)

// Path is the URL path of delay's tasks: Task sets it, and Handler serves it.
const Path = "/_ah/queue/go/delay"

// Function is a function registered to be called later, made by Func or MustRegister.
// It is safe for concurrent use.
type Function struct {
	fv  reflect.Value
	key string
	err error      // why the function is invalid; nil when it is valid
	sig *signature // nil when err is set
}

// registry holds every valid registered function by key.
var registry = struct {
	sync.RWMutex
	funcs map[string]*Function
}{funcs: make(map[string]*Function)}

// Func declares a function that can be called later, as App Engine's delay.Func does. The
// function's first parameter must be a context.Context; its other parameters must be
// encodable with encoding/gob (a concrete type passed for an interface parameter needs
// gob.Register). If its last result is an error, a non-nil error fails the attempt: the
// task is retried as its RetryOptions say, or not at all when the error is made by
// Permanent.
//
// Func must be called in a global variable declaration or an init function, so that every
// process that may run the task has registered it: the process that calls the function
// later may not be the one that runs it.
//
// The function's key is "<file>:<key>", where <file> names the file holding the call to
// Func: the import path of its package, a slash and the file's base name
// ("example.com/app/jobs/mail.go:send"), or only the base name in package main
// ("main.go:send"). It does not depend on where the source was built, on -trimpath or on
// module versions, so a task made by one build runs in another built from the same source.
// Moving the call to another file or package changes the key; MustRegister takes a key
// that does not.
//
// Func never panics. An invalid function is not registered: its Call and Task return
// "delay: func is invalid: …". When a key is registered twice, the last registration wins
// and the earlier Function's Call and Task return an error.
func Func(key string, i any) *Function {
	f := newFunction(callerFileKey(1)+":"+key, i)
	if f.err != nil {
		return f
	}
	registry.Lock()
	registry.funcs[f.key] = f // an earlier Function with this key becomes invalid
	registry.Unlock()
	return f
}

// MustRegister declares a function that can be called later under key, as App Engine v2's
// delay.MustRegister does. Unlike Func it does not prefix key with the caller's file: key
// must be unique in the program, and keeps naming the function wherever its declaration
// moves. The function must meet Func's rules.
//
// MustRegister panics with the reason if the function is invalid, or with
// `multiple functions registered for "<key>"` if key is already registered.
func MustRegister(key string, i any) *Function {
	f := newFunction(key, i)
	if f.err != nil {
		panic(f.err)
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.funcs[key]; dup {
		panic(fmt.Errorf("multiple functions registered for %q", key))
	}
	registry.funcs[key] = f
	return f
}

// Key returns the key f is registered under, which tasks carry to name their function.
func (f *Function) Key() string { return f.key }

// Call adds a task to the default queue that calls f's function with args; the context the
// function gets is not ctx but the one of the delivery (see RequestHeaders). The task is
// added with taskqueue.Add, through the client of ctx (see taskqueue.WithClient).
//
// Call checks args against the function's parameters as Task does and adds nothing when
// they do not match. To choose the queue, a name, a delay or retry options, use Task and
// taskqueue.Add.
func (f *Function) Call(ctx context.Context, args ...any) error {
	t, err := f.Task(args...)
	if err != nil {
		return err
	}
	_, err = taskqueue.Add(ctx, t, "")
	return err
}

// Task returns a task that calls f's function with args, for the caller to adjust (Name,
// Delay or ETA, RetryOptions, Header) and add with taskqueue.Add. It has Path set to Path
// and Payload to the encoded call, and nothing else; do not change those two.
//
// The args follow the function's parameters after the context: each must be assignable to
// its parameter's type (there are no conversions: an int does not go to an int64
// parameter), a nil may go to a pointer, interface, map, slice, chan or func parameter and
// arrives as that type's nil, and a variadic function takes its trailing arguments one by
// one. Errors, worded as App Engine words them:
//
//	delay: func is invalid: <reason>
//	delay: too few arguments to func: 1 < 2
//	delay: too many arguments to func: 3 > 2
//	delay: argument 1 has wrong type: int is not assignable to string
//	delay: argument 1 has wrong type: int is not nilable
//	delay: gob encoding failed: <gob error>
//
// Task never changes args.
func (f *Function) Task(args ...any) (*taskqueue.Task, error) {
	if err := f.usable(); err != nil {
		return nil, fmt.Errorf("delay: func is invalid: %w", err)
	}
	payload, err := f.sig.encode(f.key, args)
	if err != nil {
		return nil, err
	}
	return &taskqueue.Task{Path: Path, Payload: payload}, nil
}

// usable returns why f cannot make tasks: its registration error, or that a later
// registration took its key.
func (f *Function) usable() error {
	if f.err != nil {
		return f.err
	}
	if f.sig == nil { // a zero Function, not made by Func or MustRegister
		return errNotFunc
	}
	registry.RLock()
	cur := registry.funcs[f.key]
	registry.RUnlock()
	if cur != f {
		return fmt.Errorf("multiple functions registered for %s", f.key)
	}
	return nil
}

// lookup returns the function registered under key, or nil.
func lookup(key string) *Function {
	registry.RLock()
	defer registry.RUnlock()
	return registry.funcs[key]
}

var contextType = reflect.TypeFor[context.Context]()

// newFunction checks i and returns its Function, with err set when i is not a valid
// delayed function.
func newFunction(key string, i any) *Function {
	f := &Function{key: key}
	if i == nil {
		f.err = errNotFunc
		return f
	}
	f.fv = reflect.ValueOf(i)
	ft := f.fv.Type()
	switch {
	case ft.Kind() != reflect.Func:
		f.err = errNotFunc
	case f.fv.IsNil():
		f.err = errNilFunc
	case ft.NumIn() == 0 || ft.In(0) != contextType:
		f.err = errFirstArg
	default:
		f.sig = newSignature(ft)
	}
	return f
}
