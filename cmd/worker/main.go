// Command worker runs redelay's tasks from Redis: in push mode (-target) it delivers each
// task as a signed HTTP request to the app, which checks it with taskqueue.RequireSignature;
// -dev runs an embedded in-memory Redis for local development. Run "worker -h" for the
// flags and their environment variables; internal/workercmd holds the logic.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/redelay/redelay/internal/workercmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal ends the process at once
	}()
	os.Exit(workercmd.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}
