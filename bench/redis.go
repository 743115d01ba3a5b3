package main

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// poolSize is the connection pool of every Redis client the benchmark makes, the same for
// all systems: room for 50 producers and a worker's connections without queueing on the pool.
const poolSize = 128

// newRedis returns a fresh client of the benchmark's database. Each system in each run
// gets its own clients, as separate processes would.
func (o *options) newRedis() *redis.Client {
	opt := *o.redisOpt
	opt.PoolSize = poolSize
	return redis.NewClient(&opt)
}

// flush empties the benchmark's database (and only it).
func flush(ctx context.Context, rdb *redis.Client) error {
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		return fmt.Errorf("flushdb: %w", err)
	}
	return nil
}

// info returns the fields of one INFO section.
func info(ctx context.Context, rdb *redis.Client, section string) (map[string]string, error) {
	s, err := rdb.Info(ctx, section).Result()
	if err != nil {
		return nil, fmt.Errorf("info %s: %w", section, err)
	}
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":"); ok && !strings.HasPrefix(k, "#") {
			out[k] = v
		}
	}
	return out, nil
}

// usedMemory is INFO memory's used_memory in bytes.
func usedMemory(ctx context.Context, rdb *redis.Client) (int64, error) {
	m, err := info(ctx, rdb, "memory")
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(m["used_memory"], 10, 64)
}

// serverWork is a reading of Redis's server-wide counters: the work done between two
// readings is their difference (by every client of the server, the harness's INFO too).
type serverWork struct {
	commands int64   // commands run, those run inside scripts included (INFO commandstats)
	scripts  int64   // EVAL/EVALSHA/FCALL calls, each a round trip's worth of work
	cpu      float64 // seconds of CPU of the Redis process, user and system (INFO cpu)
}

// readServerWork reads INFO commandstats (all commands but INFO) and INFO cpu.
func readServerWork(ctx context.Context, rdb *redis.Client) (serverWork, error) {
	m, err := info(ctx, rdb, "commandstats")
	if err != nil {
		return serverWork{}, err
	}
	var w serverWork
	for k, v := range m {
		if !strings.HasPrefix(k, "cmdstat_") || k == "cmdstat_info" {
			continue
		}
		for _, f := range strings.Split(v, ",") {
			if name, val, _ := strings.Cut(f, "="); name == "calls" {
				n, _ := strconv.ParseInt(val, 10, 64)
				w.commands += n
				switch k {
				case "cmdstat_eval", "cmdstat_evalsha", "cmdstat_eval_ro", "cmdstat_evalsha_ro", "cmdstat_fcall", "cmdstat_fcall_ro":
					w.scripts += n
				}
			}
		}
	}
	cpu, err := info(ctx, rdb, "cpu")
	if err != nil {
		return serverWork{}, err
	}
	user, _ := strconv.ParseFloat(cpu["used_cpu_user"], 64)
	sys, _ := strconv.ParseFloat(cpu["used_cpu_sys"], 64)
	w.cpu = user + sys
	return w, nil
}

func (a serverWork) sub(b serverWork) serverWork {
	return serverWork{a.commands - b.commands, a.scripts - b.scripts, a.cpu - b.cpu}
}
