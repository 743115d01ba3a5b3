package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"time"
)

// leasedLine is what a recovery child prints when its handler holds the task.
const leasedLine = "leased"

// childLifetime bounds how long a recovery child waits to be killed, so that a child whose
// parent died does not linger.
const childLifetime = 10 * time.Minute

// measureRecovery is scenario 8. With one task waiting, a child process (this binary in
// its hidden -recovery-child mode) starts a worker whose handler takes the task and never
// returns. Once the child reports that, a second worker starts here, and the child is
// SIGKILLed at a random moment within one LeaseDuration (-lease) after that, so that the kill
// falls anywhere between two lease extensions. The result is the time from the kill until
// the second worker's handler runs the task.
func measureRecovery(ctx context.Context, r *run) (time.Duration, error) {
	if err := r.sys.enqueue(ctx, stamp(time.Now()), time.Time{}); err != nil {
		return 0, err
	}
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	args := []string{"-recovery-child", r.name, "-redis", r.o.redisURL, "-lease", r.o.lease.String()}
	if r.o.force {
		args = append(args, "-force")
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start the worker to kill: %w", err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	leased := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == leasedLine {
				leased <- nil
				return
			}
		}
		leased <- errors.New("the worker to kill exited before it took the task")
	}()
	select {
	case err := <-leased:
		if err != nil {
			return 0, err
		}
	case <-time.After(30 * time.Second):
		return 0, errors.New("the worker to kill did not take the task within 30s")
	}

	ran := make(chan time.Time, 1)
	stop, err := r.sys.startWorker(ctx, workerConfig{
		concurrency: r.o.c,
		lease:       r.o.lease,
		handle: func([]byte) {
			select {
			case ran <- time.Now():
			default:
			}
		},
	})
	if err != nil {
		return 0, err
	}
	defer stop()
	time.Sleep(settle + rand.N(r.o.lease))

	if err := cmd.Process.Kill(); err != nil {
		return 0, fmt.Errorf("kill the worker: %w", err)
	}
	killed := time.Now()
	_ = cmd.Wait()
	select {
	case t := <-ran:
		return t.Sub(killed), nil
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(r.o.recoveryWait):
		return 0, fmt.Errorf("the killed worker's task did not run again within %s", r.o.recoveryWait)
	}
}

// runRecoveryChild is the hidden -recovery-child mode: run a worker of one system whose
// handler prints leasedLine and then holds its task until the process is killed.
func runRecoveryChild(ctx context.Context, o *options) error {
	ctx, cancel := context.WithTimeout(ctx, childLifetime)
	defer cancel()
	sys, err := newSystem(o.child, o)
	if err != nil {
		return err
	}
	defer sys.close()
	stop, err := sys.startWorker(ctx, workerConfig{
		concurrency: 1,
		lease:       o.lease,
		handle: func([]byte) {
			fmt.Println(leasedLine)
			<-ctx.Done()
		},
	})
	if err != nil {
		return err
	}
	<-ctx.Done()
	stop()
	return nil
}
