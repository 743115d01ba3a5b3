// Command bench measures redelay side by side with hibiken/asynq v0.26.0 on the same Redis,
// plus a bare-Redis baseline (pipelined LPUSH, batched LPOP, no task semantics) as the
// practical limit of the machine.
//
// It runs each scenario for several rounds, alternating the systems (redelay, asynq, bare
// Redis, redelay, asynq, …), prints the median of every figure with the ratio
// redelay/asynq, and writes a Markdown table and an SVG chart:
//
//	cd bench && go run . -redis redis://127.0.0.1:6379/15
//
// Every run starts with FLUSHDB on the chosen database, so bench refuses database 0 unless
// -force is given. The handlers are no-ops; see scenarios.go for what each scenario does.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	opts, err := parseOptions(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if opts.child != "" {
		err = runRecoveryChild(ctx, opts)
	} else {
		err = runBench(ctx, opts)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
