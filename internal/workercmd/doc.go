// Package workercmd is the worker command (cmd/worker) as a package: configuration from
// flags and environment, dev mode's embedded Redis, start-up checks, the -http listener with
// GET /healthz and GET /stats, and a run that drains on cancel.
//
// The plain binary is normally run in push mode, delivering every task over HTTP, signed,
// to the app that registered the delay functions:
//
//	REDELAY_SECRET=… worker -redis redis://127.0.0.1:6379/0 -target http://127.0.0.1:8080 -queues default=1,mail=3
//
// A Go program whose delay functions should run in the worker process itself builds its own
// binary with them linked in, and runs it without -target:
//
//	import (
//		_ "example.com/app/jobs" // registers the delay functions
//		"github.com/redelay/redelay/internal/workercmd"
//	)
//
//	func main() {
//		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
//		defer stop()
//		os.Exit(workercmd.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
//	}
//
// (workercmd is internal for now: such a program lives in this module until the package is
// made public.)
//
// A Command with Extensions adds flags and handlers mounted on the -http listener.
package workercmd
