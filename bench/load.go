package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// clockTicks is Linux's USER_HZ, the unit of /proc/stat and /proc/self/stat.
const clockTicks = 100

// cpuSample is a reading of the CPU time spent on the machine, by this process, and by
// Redis, to tell how much of the machine other work took during a run.
type cpuSample struct {
	at    time.Time
	busy  float64 // seconds, all CPUs, all processes (/proc/stat)
	idle  float64 // seconds, all CPUs
	self  float64 // seconds, this process (/proc/self/stat)
	redis float64 // seconds, the Redis process (INFO cpu); 0 when unknown
	ok    bool    // /proc was readable
}

func sampleCPU(ctx context.Context, rdb *redis.Client) cpuSample {
	s := cpuSample{at: time.Now()}
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return s
	}
	for i, v := range f[1:] {
		n, _ := strconv.ParseFloat(v, 64)
		if i == 3 || i == 4 { // idle, iowait
			s.idle += n / clockTicks
		} else if i < 8 { // user nice system irq softirq steal; not guest (counted in user)
			s.busy += n / clockTicks
		}
	}
	b, err = os.ReadFile("/proc/self/stat")
	if err != nil {
		return s
	}
	// The fields after the command name, which is in parentheses and may hold spaces.
	st := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(st) > 12 {
		utime, _ := strconv.ParseFloat(st[11], 64)
		stime, _ := strconv.ParseFloat(st[12], 64)
		s.self = (utime + stime) / clockTicks
	}
	if rdb != nil {
		if w, err := readServerWork(ctx, rdb); err == nil {
			s.redis = w.cpu
		}
	}
	s.ok = true
	return s
}

// othersSince is the average number of CPUs that processes other than this one and Redis
// kept busy between a and s.
func (s cpuSample) othersSince(a cpuSample) float64 {
	wall := s.at.Sub(a.at).Seconds()
	if !s.ok || !a.ok || wall <= 0 {
		return 0
	}
	return max(0, (s.busy-a.busy)-(s.self-a.self)-(s.redis-a.redis)) / wall
}

// waitIdle waits until the machine's CPUs were at least minIdle idle over one second, or
// maxWait passed. It reports how long it waited and whether the machine got idle.
func waitIdle(ctx context.Context, minIdle float64, maxWait time.Duration) (time.Duration, bool) {
	start := time.Now()
	for {
		a := sampleCPU(ctx, nil)
		select {
		case <-ctx.Done():
			return time.Since(start), false
		case <-time.After(time.Second):
		}
		b := sampleCPU(ctx, nil)
		if !a.ok || !b.ok {
			return 0, true // no /proc: nothing to wait for
		}
		busy, idle := b.busy-a.busy, b.idle-a.idle
		if busy+idle > 0 && idle/(busy+idle) >= minIdle {
			return time.Since(start), true
		}
		if time.Since(start) >= maxWait {
			return time.Since(start), false
		}
	}
}

// quietNote says how long a run waited for the machine to be idle, when it did.
func quietNote(waited time.Duration, idle bool) string {
	switch {
	case !idle:
		return fmt.Sprintf("(machine still busy after %s) ", waited.Round(time.Second))
	case waited > 2*time.Second:
		return fmt.Sprintf("(waited %s for an idle machine) ", waited.Round(time.Second))
	}
	return ""
}
