package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// lastScenario is the number of the last scenario.
const lastScenario = 9

// scenario is one comparison: what each system does in its turn, and the figures (rows) it
// reports.
type scenario struct {
	id      int
	title   string
	systems []string // nil: all
	rows    []row
	run     func(ctx context.Context, r *run) error
}

func (s *scenario) has(system string) bool {
	return s.systems == nil || slices.Contains(s.systems, system)
}

// row is one figure of the result table.
type row struct {
	key    string
	label  string
	unit   string
	lower  bool   // lower is better
	note   string // what a column means where it is not obvious
	target *target
}

// target is a goal of issue 6 for one row, judged on the medians.
type target struct {
	text     string
	relative bool // judged against asynq's median
	met      func(redelay, asynq float64) bool
}

func timesAsynq(k float64) *target {
	return &target{fmt.Sprintf("≥ %g× asynq", k), true, func(r, a float64) bool { return r >= k*a }}
}

func fractionOfAsynq(k float64) *target {
	return &target{fmt.Sprintf("≤ %g× asynq", k), true, func(r, a float64) bool { return r <= k*a }}
}

func below(limit float64, unit string) *target {
	return &target{fmt.Sprintf("< %g %s", limit, unit), false, func(r, _ float64) bool { return r < limit }}
}

func atLeast(limit float64, unit string) *target {
	return &target{fmt.Sprintf("≥ %g %s", limit, unit), false, func(r, _ float64) bool { return r >= limit }}
}

// Units of the rows.
const (
	unitRate   = "tasks/s"
	unitMs     = "ms"
	unitS      = "s"
	unitBytes  = "B/task"
	unitCalls  = "calls/task"
	unitMicros = "µs/task"
)

// scenarioList returns the scenarios, scenario i at index i-1.
func scenarioList(o *options) []scenario {
	onlyQueues := []string{sysRedelay, sysAsynq}
	return []scenario{
		{
			id: 1, title: "enqueue, 1 producer",
			rows: []row{
				{key: "1.add", label: "enqueue, 1 producer: Add / Enqueue", unit: unitRate,
					note: "bare Redis: one LPUSH per round trip"},
				{key: "1.multi", label: "enqueue, 1 producer: AddMulti ×100 / Enqueue", unit: unitRate, target: timesAsynq(10),
					note: "asynq v0.26.0 has no batch enqueue: its single Enqueue rate; bare Redis: LPUSH pipelined ×100"},
			},
			run: func(ctx context.Context, r *run) error {
				single, err := measureEnqueue(ctx, r.sys, o.n, 1, 1)
				if err != nil {
					return err
				}
				r.emit("1.add", single)
				if err := r.reset(ctx); err != nil {
					return err
				}
				batch, err := measureEnqueue(ctx, r.sys, o.n, 1, 100)
				if errors.Is(err, errNotSupported) {
					batch, err = single, nil
				}
				if err != nil {
					return err
				}
				r.emit("1.multi", batch)
				return nil
			},
		},
		{
			id: 2, title: fmt.Sprintf("enqueue, %d producers", o.c),
			rows: []row{
				{key: "2.add", label: fmt.Sprintf("enqueue, %d producers: Add / Enqueue", o.c), unit: unitRate, target: timesAsynq(2),
					note: "bare Redis: one LPUSH per round trip"},
			},
			run: func(ctx context.Context, r *run) error {
				v, err := measureEnqueue(ctx, r.sys, o.n, o.c, 1)
				if err != nil {
					return err
				}
				r.emit("2.add", v)
				return nil
			},
		},
		{
			id: 3, title: "drain a backlog with one worker process",
			rows: []row{
				{key: "3.rate", label: fmt.Sprintf("drain %d waiting tasks, 1 worker, concurrency %d", o.n, o.c), unit: unitRate, target: timesAsynq(8)},
				{key: "3.norec", label: "drain, no records of succeeded tasks (redelay ResultTTL < 0)", unit: unitRate,
					note: "redelay keeps a record of each succeeded task for Config.ResultTTL (default 24 h); asynq keeps none by default (Retention 0), so its column repeats its drain"},
				{key: "3.cpu", label: "drain: Redis CPU per task", unit: unitMicros, lower: true,
					note: "INFO cpu: used_cpu_user + used_cpu_sys of the Redis process over the drain, per task"},
				{key: "3.scripts", label: "drain: Redis script calls per task", unit: unitCalls, lower: true,
					note: "INFO commandstats: EVALSHA calls; commands: every command, those run inside scripts included, a variadic one once"},
				{key: "3.cmds", label: "drain: Redis commands per task", unit: unitCalls, lower: true},
			},
			run: func(ctx context.Context, r *run) error {
				cnt := newCounter(o.n)
				res, err := measureDrain(ctx, r, o.n, workerConfig{concurrency: o.c, handle: func([]byte) { cnt.add() }}, cnt)
				if err != nil {
					return err
				}
				r.emit("3.rate", res.rate)
				if res.counted {
					per := float64(o.n)
					r.emit("3.cpu", res.work.cpu*1e6/per)
					r.emit("3.scripts", float64(res.work.scripts)/per)
					r.emit("3.cmds", float64(res.work.commands)/per)
				}
				if r.name == sysAsynq {
					r.emit("3.norec", res.rate) // asynq keeps no records by default either
				}
				if r.name != sysRedelay || o.resultTTL != 0 {
					return nil
				}
				// Again without the records of succeeded tasks that redelay keeps by default.
				if err := r.reset(ctx); err != nil {
					return err
				}
				noRecords := *o
				noRecords.resultTTL = -1
				sys := newRedelay(&noRecords)
				defer sys.close()
				cnt = newCounter(o.n)
				res, err = measureDrain(ctx, &run{o: o, name: r.name, sys: sys, rdb: r.rdb}, o.n,
					workerConfig{concurrency: o.c, handle: func([]byte) { cnt.add() }}, cnt)
				if err != nil {
					return err
				}
				r.emit("3.norec", res.rate)
				return nil
			},
		},
		{
			id: 4, title: "end to end, worker already running",
			rows: []row{
				{key: "4.p1", label: "end to end, 1 producer", unit: unitRate,
					note: "bound by the producer's round trips"},
				{key: "4.pc", label: fmt.Sprintf("end to end, %d producers", o.c), unit: unitRate, target: timesAsynq(6)},
			},
			run: func(ctx context.Context, r *run) error {
				for _, p := range []struct {
					key       string
					producers int
				}{{"4.p1", 1}, {"4.pc", o.c}} {
					if err := r.reset(ctx); err != nil {
						return err
					}
					cnt := newCounter(o.n)
					v, err := measureEndToEnd(ctx, r, o.n, p.producers, workerConfig{concurrency: o.c, handle: func([]byte) { cnt.add() }}, cnt)
					if err != nil {
						return err
					}
					r.emit(p.key, v)
				}
				return nil
			},
		},
		{
			id: 5, title: fmt.Sprintf("pickup latency at %d tasks/s", o.pacedRate),
			rows: []row{
				{key: "5.p50", label: "pickup latency p50 (enqueue → handler start)", unit: unitMs, lower: true, target: below(1, unitMs),
					note: "asynq with its default TaskCheckInterval (1 s); bare Redis: BRPOP"},
				{key: "5.p90", label: "pickup latency p90", unit: unitMs, lower: true},
				{key: "5.p99", label: "pickup latency p99", unit: unitMs, lower: true, target: below(5, unitMs)},
				{key: "5.p50t", label: "pickup latency p50, asynq TaskCheckInterval 10 ms", unit: unitMs, lower: true},
				{key: "5.p99t", label: "pickup latency p99, asynq TaskCheckInterval 10 ms", unit: unitMs, lower: true},
			},
			run: func(ctx context.Context, r *run) error {
				cfg := workerConfig{concurrency: o.c}
				d, err := measurePickup(ctx, r, o.pacedCount, o.pacedRate, cfg)
				if err != nil {
					return err
				}
				r.emit("5.p50", percentile(d, 50))
				r.emit("5.p90", percentile(d, 90))
				r.emit("5.p99", percentile(d, 99))
				switch r.name {
				case sysBaseline:
					return nil
				case sysAsynq:
					if err := r.reset(ctx); err != nil {
						return err
					}
					cfg.taskCheckInterval = 10 * time.Millisecond
					if d, err = measurePickup(ctx, r, o.pacedCount, o.pacedRate, cfg); err != nil {
						return err
					}
				}
				r.emit("5.p50t", percentile(d, 50))
				r.emit("5.p99t", percentile(d, 99))
				return nil
			},
		},
		{
			id: 6, title: "delayed tasks: lateness after ETA", systems: onlyQueues,
			rows: []row{
				{key: "6.p50", label: fmt.Sprintf("delayed tasks: lateness after ETA p50 (%d tasks over %s)", o.delayedCount, o.delaySpread), unit: unitMs, lower: true,
					note: "negative: ran early (asynq keeps ETAs in whole seconds)"},
				{key: "6.p99", label: "delayed tasks: lateness after ETA p99", unit: unitMs, lower: true},
			},
			run: func(ctx context.Context, r *run) error {
				d, err := measureLateness(ctx, r, o.delayedCount, o.delaySpread, workerConfig{concurrency: o.c})
				if err != nil {
					return err
				}
				r.emit("6.p50", percentile(d, 50))
				r.emit("6.p99", percentile(d, 99))
				return nil
			},
		},
		{
			id: 7, title: "Redis memory per waiting task",
			rows: []row{
				{key: "7.mem", label: fmt.Sprintf("Redis memory per waiting task (%d tasks, 8-byte payload)", o.n), unit: unitBytes, lower: true, target: fractionOfAsynq(0.5),
					note: "INFO memory used_memory delta / N; bare Redis: a list of 8-byte strings"},
			},
			run: func(ctx context.Context, r *run) error {
				v, err := measureMemory(ctx, r, o.n)
				if err != nil {
					return err
				}
				r.emit("7.mem", v)
				return nil
			},
		},
		{
			id: 8, title: "recovery after a worker is killed", systems: onlyQueues,
			rows: []row{
				{key: "8.sec", label: fmt.Sprintf("recovery: killed worker's task runs again after (redelay LeaseDuration %s)", o.lease), unit: unitS, lower: true,
					target: below((o.lease + time.Second).Seconds(), unitS),
					note:   "asynq with its defaults"},
			},
			run: func(ctx context.Context, r *run) error {
				d, err := measureRecovery(ctx, r)
				if err != nil {
					return err
				}
				r.emit("8.sec", d.Seconds())
				return nil
			},
		},
		{
			id: 9, title: "push mode over HTTP to a loopback target",
			rows: []row{
				{key: "9.drain", label: fmt.Sprintf("push over HTTP: drain %d waiting tasks", o.n), unit: unitRate,
					note: "redelay push mode, signed and checked by the target; asynq and bare Redis: a handler that POSTs to the same target, unsigned"},
				{key: "9.e2e", label: fmt.Sprintf("push over HTTP: end to end, %d producers", o.c), unit: unitRate, target: atLeast(10000, unitRate)},
			},
			run: func(ctx context.Context, r *run) error {
				cnt := newCounter(o.n)
				srv := pushTarget(r.name, func([]byte) { cnt.add() })
				res, err := measureDrain(ctx, r, o.n, workerConfig{concurrency: o.c, target: srv.URL}, cnt)
				srv.Close()
				if err != nil {
					return err
				}
				r.emit("9.drain", res.rate)
				if err := r.reset(ctx); err != nil {
					return err
				}
				cnt = newCounter(o.n)
				srv = pushTarget(r.name, func([]byte) { cnt.add() })
				defer srv.Close()
				v, err := measureEndToEnd(ctx, r, o.n, o.c, workerConfig{concurrency: o.c, target: srv.URL}, cnt)
				if err != nil {
					return err
				}
				r.emit("9.e2e", v)
				return nil
			},
		},
	}
}
