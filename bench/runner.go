package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// run is one system's turn in one round of one scenario.
type run struct {
	o    *options
	name string
	sys  system
	rdb  *redis.Client // the harness's own connection: FLUSHDB and INFO
	out  []sample
}

// sample is one measured value of one row.
type sample struct {
	key   string
	value float64
}

// emit records a value of the row key.
func (r *run) emit(key string, v float64) { r.out = append(r.out, sample{key, v}) }

// reset empties the database between two measurements of one turn.
func (r *run) reset(ctx context.Context) error { return flush(ctx, r.rdb) }

// results holds every sample, by row key and then system, in the order measured.
type results struct {
	samples map[string]map[string][]float64
	errors  []string
	others  []float64 // CPUs kept busy by other processes, per run
}

func (res *results) add(system string, ss []sample) {
	for _, s := range ss {
		if res.samples[s.key] == nil {
			res.samples[s.key] = map[string][]float64{}
		}
		res.samples[s.key][system] = append(res.samples[s.key][system], s.value)
	}
}

// runBench measures every chosen scenario, alternating the systems round by round, then prints
// and writes the results.
func runBench(ctx context.Context, o *options) error {
	admin := o.newRedis()
	defer admin.Close()
	if err := admin.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis %s: %w", o.redisURL, err)
	}
	m, err := describeMachine(ctx, admin)
	if err != nil {
		return err
	}
	loadStart := loadAverage()
	fmt.Printf("%s\n%s\nload average (1 min): %s\n\n", m, o.reproduce(), loadStart)
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	list := scenarioList(o)
	res := &results{samples: map[string]map[string][]float64{}}
	start := time.Now()
	for _, id := range o.scenarios {
		sc := &list[id-1]
		fmt.Printf("== %d. %s\n", sc.id, sc.title)
		for round := 1; round <= o.rounds; round++ {
			for _, name := range o.systems {
				if !sc.has(name) {
					continue
				}
				quiet := ""
				if o.minIdle > 0 {
					quiet = quietNote(waitIdle(ctx, o.minIdle, o.idleWait))
				}
				r := &run{o: o, name: name, rdb: admin}
				before := sampleCPU(ctx, admin)
				err := r.do(ctx, sc)
				after := sampleCPU(ctx, admin)
				others := after.othersSince(before)
				res.others = append(res.others, others)
				fmt.Printf("   round %d %-10s %6.1fs  %s %sothers=%.2f CPUs\n",
					round, name, after.at.Sub(before.at).Seconds(), formatSamples(sc, r.out), quiet, others)
				if err != nil {
					msg := fmt.Sprintf("scenario %d, round %d, %s: %v", sc.id, round, name, err)
					fmt.Println("   error:", err)
					res.errors = append(res.errors, msg)
				}
				res.add(name, r.out)
				if ctx.Err() != nil {
					return ctx.Err()
				}
			}
		}
	}
	if err := flush(ctx, admin); err != nil {
		return err
	}
	elapsed := time.Since(start)

	rep := &report{o: o, machine: m, date: start, elapsed: elapsed, scenarios: list, res: res,
		load: [2]string{loadStart, loadAverage()}}
	md := rep.markdown()
	fmt.Println()
	fmt.Print(md)
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(md), 0o644); err != nil {
			return err
		}
		fmt.Println("wrote", o.out)
	}
	if o.chart != "" {
		if err := os.WriteFile(o.chart, rep.svg(), 0o644); err != nil {
			return err
		}
		fmt.Println("wrote", o.chart)
	}
	return nil
}

// do runs sc for r's system on an empty database with a fresh system.
func (r *run) do(ctx context.Context, sc *scenario) error {
	if err := r.reset(ctx); err != nil {
		return err
	}
	sys, err := newSystem(r.name, r.o)
	if err != nil {
		return err
	}
	defer sys.close()
	r.sys = sys
	return sc.run(ctx, r)
}

// formatSamples is a run's samples on one line, labelled by their rows' keys.
func formatSamples(sc *scenario, ss []sample) string {
	var b strings.Builder
	for _, s := range ss {
		unit := ""
		for _, rw := range sc.rows {
			if rw.key == s.key {
				unit = rw.unit
			}
		}
		fmt.Fprintf(&b, "%s=%s %s  ", s.key, formatValue(s.value), unit)
	}
	return b.String()
}
