// Package delay runs function calls later, in a worker, with retries: App Engine's
// google.golang.org/appengine/delay on Redis.
//
// # Quick start
//
// Declare the function at init time, in a global variable or an init function, so that
// every process that may run it has it:
//
//	var sendWelcome = delay.Func("sendWelcome", func(ctx context.Context, userID int64) error {
//		// ... send the mail; a non-nil error makes the worker retry the call later
//		return nil
//	})
//
// Call it from a web handler, or anywhere else; Call checks the arguments against the
// function's parameters and adds a task to the default queue:
//
//	ctx := taskqueue.WithClient(r.Context(), client) // or set $REDIS_URL, or taskqueue.SetDefaultClient
//	if err := sendWelcome.Call(ctx, user.ID); err != nil {
//		// the arguments do not fit the function, or Redis did not take the task
//	}
//
// Run a worker, in the same program or another one built from the same source; with no
// handler configured it delivers delay's tasks to Handler in-process:
//
//	w, err := worker.New(worker.Config{Client: client})
//	...
//	err = w.Run(ctx) // until ctx ends
//
// To choose the queue, a task name, a delay or retry options, make the task with
// Function.Task and add it with taskqueue.Add. To run the functions in the app's own
// server, with the worker delivering over HTTP, mount the handler behind the delivery
// signature check:
//
//	mux.Handle(delay.Path, taskqueue.RequireSignature(secret, delay.Handler()))
//
// # Arguments
//
// The arguments after the context are encoded with encoding/gob, each as its parameter's
// declared type, so they must be gob-encodable: exported struct fields, no channels or
// functions other than nil. A concrete type passed for an interface parameter must be
// registered with gob.Register, in every process, as App Engine requires; concrete
// parameter types, variadic element types included, need no registration. A nil argument
// arrives as its parameter type's nil, an empty slice as nil, and a typed nil passed for
// an interface parameter as a nil interface.
//
// # Failures
//
// A function whose last result is an error fails its attempt by returning a non-nil one:
// the task is retried as its RetryOptions say, then kept among its queue's dead tasks.
// A function that returns an error made by Permanent fails at once, without retries. A
// panic is recovered, logged with its stack, and fails the attempt. A task whose function
// this process does not have is retried, since another process, or the next deploy, may
// have it; a task whose payload cannot be decoded or whose arguments no longer fit the
// function's parameters is dead at once. Dead tasks keep the reason and can be listed and
// requeued (taskqueue.Client.DeadTasks and Requeue); nothing is dropped silently.
//
// # Migrating from App Engine
//
// Change the import paths, google.golang.org/appengine/delay (or .../v2/delay) to
// github.com/redelay/redelay/delay and google.golang.org/appengine/taskqueue to
// github.com/redelay/redelay/taskqueue; the code that declares, calls and runs delayed
// functions stays as it is: Func, MustRegister, Function.Call and Task, RequestHeaders,
// and App Engine's error messages. Then give the calls a Redis (taskqueue.WithClient,
// taskqueue.SetDefaultClient or $REDIS_URL) and run a worker, which replaces App Engine's
// push queue service. Tasks already in App Engine's queues do not move.
//
// Where App Engine's package has defects, this one differs:
//
//   - Func's keys are "<import path>/<file>:<key>" (just "<file>:<key>" in package main),
//     the same on every machine and with -trimpath, where App Engine's depend on the build
//     folder outside its own builders.
//   - The registry is safe for concurrent use.
//   - Variadic functions with a custom element type need no gob.Register, and functions
//     taking T and *T can both be registered; App Engine fails or panics at init.
//   - The caller's argument slice is never modified.
//   - An unknown key or an undecodable payload is retried or dead-lettered, not dropped.
//   - Permanent lets a function fail without retries; a panic does not end the process.
//   - RequestHeaders keeps the fraction of a second of TaskETA.
//   - Handler is not registered on http.DefaultServeMux at init: the worker runs the
//     tasks in-process, or an app mounts Handler where it wants it, behind
//     taskqueue.RequireSignature, since the handler runs registered functions with the
//     arguments the request carries.
package delay
