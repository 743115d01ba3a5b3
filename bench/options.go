package main

import (
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// options are the command-line flags.
type options struct {
	redisURL  string
	redisOpt  *redis.Options
	force     bool
	n         int
	c         int
	rounds    int
	scenarios []int
	systems   []string
	out       string
	chart     string

	pacedCount   int
	pacedRate    int
	delayedCount int
	delaySpread  time.Duration
	lease        time.Duration
	recoveryWait time.Duration
	runTimeout   time.Duration
	cpuProfile   string
	resultTTL    time.Duration
	minIdle      float64
	idleWait     time.Duration

	// child is the hidden mode of scenario 8: the system whose worker this process runs
	// until it is killed.
	child string
	args  []string // the flags as given, for the reproduce line
}

// allSystems are the systems in the order each round runs them.
var allSystems = []string{sysRedelay, sysAsynq, sysBaseline}

func parseOptions(args []string) (*options, error) {
	o := &options{args: args}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.StringVar(&o.redisURL, "redis", "redis://127.0.0.1:6379/15", "Redis URL; its database is flushed before every run")
	fs.BoolVar(&o.force, "force", false, "allow database 0")
	fs.IntVar(&o.n, "n", 100_000, "tasks per throughput run and for the memory figure")
	fs.IntVar(&o.c, "c", 50, "worker concurrency and producer count of the 50-producer scenarios")
	fs.IntVar(&o.rounds, "rounds", 3, "rounds per scenario (at least 3 for a median worth reading)")
	scen := fs.String("scenarios", "1-9", "scenarios to run: a list such as 1,3,5-7")
	sys := fs.String("systems", strings.Join(allSystems, ","), `systems to run ("bare" is short for "bare Redis")`)
	fs.StringVar(&o.out, "out", "RESULTS-table.md", "Markdown table to write (\"\" to skip)")
	fs.StringVar(&o.chart, "chart", "chart.svg", "SVG chart to write (\"\" to skip)")
	fs.IntVar(&o.pacedCount, "paced", 5000, "tasks of the paced latency scenario (5)")
	fs.IntVar(&o.pacedRate, "rate", 500, "tasks per second of the paced latency scenario (5)")
	fs.IntVar(&o.delayedCount, "delayed", 2000, "tasks of the delayed-task scenario (6)")
	fs.DurationVar(&o.delaySpread, "spread", 5*time.Second, "the delayed tasks' ETAs spread over this long, starting 1 s out (6)")
	fs.DurationVar(&o.lease, "lease", 5*time.Second, "redelay's LeaseDuration in the recovery scenario (8)")
	fs.DurationVar(&o.recoveryWait, "recovery-timeout", 5*time.Minute, "longest wait for a killed worker's task to run again (8)")
	fs.DurationVar(&o.runTimeout, "timeout", 5*time.Minute, "longest wait for one run's tasks to be handled")
	fs.DurationVar(&o.resultTTL, "result-ttl", 0, "redelay's Config.ResultTTL (0: redelay's default; negative: keep no records of succeeded tasks)")
	fs.Float64Var(&o.minIdle, "idle", 0.8, "before each run, wait until the CPUs were this idle over a second (0: don't wait)")
	fs.DurationVar(&o.idleWait, "idle-wait", time.Minute, "longest wait for -idle")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	fs.StringVar(&o.child, "recovery-child", "", "internal: run a worker of this system for scenario 8 until killed")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	var err error
	if o.redisOpt, err = redis.ParseURL(o.redisURL); err != nil {
		return nil, fmt.Errorf("-redis: %w", err)
	}
	if o.redisOpt.DB == 0 && !o.force {
		return nil, errors.New("-redis names database 0, which every run flushes; pick another database or pass -force")
	}
	if o.scenarios, err = parseList(*scen); err != nil {
		return nil, fmt.Errorf("-scenarios: %w", err)
	}
	for _, s := range strings.Split(*sys, ",") {
		if s = strings.TrimSpace(s); s == "bare" {
			s = sysBaseline
		}
		if !slices.Contains(allSystems, s) {
			return nil, fmt.Errorf("-systems: unknown system %q (have %s)", s, strings.Join(allSystems, ", "))
		}
		o.systems = append(o.systems, s)
	}
	switch {
	case o.n < 1 || o.c < 1 || o.rounds < 1 || o.pacedCount < 1 || o.pacedRate < 1 || o.delayedCount < 1:
		return nil, errors.New("-n, -c, -rounds, -paced, -rate and -delayed must be positive")
	case o.lease < time.Second:
		return nil, errors.New("-lease must be at least 1s")
	}
	if o.chart != "" && filepath.Ext(o.chart) != ".svg" {
		return nil, fmt.Errorf("-chart %s: only .svg is supported", o.chart)
	}
	return o, nil
}

// parseList reads "1,3,5-7" into [1 3 5 6 7], each between 1 and the last scenario.
func parseList(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("bad item %q", part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				return nil, fmt.Errorf("bad item %q", part)
			}
		}
		for i := a; i <= b; i++ {
			if i < 1 || i > lastScenario {
				return nil, fmt.Errorf("no scenario %d", i)
			}
			if !slices.Contains(out, i) {
				out = append(out, i)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// reproduce is the command line that repeats this run.
func (o *options) reproduce() string {
	var b strings.Builder
	b.WriteString("cd bench && go run .")
	for _, a := range o.args {
		b.WriteByte(' ')
		if a == "" || strings.ContainsAny(a, " \t'\"$") {
			a = strconv.Quote(a)
		}
		b.WriteString(a)
	}
	return b.String()
}
