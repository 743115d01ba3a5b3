package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/redis/go-redis/v9"
)

// machine describes where the benchmark ran.
type machine struct {
	cores        int
	cpu          string // model name, when the OS tells
	goVersion    string
	goos, goarch string
	redis        string // Redis version
	redelay      string // the commit of the redelay tree bench builds against, when git tells
	deps         map[string]string
}

func describeMachine(ctx context.Context, rdb *redis.Client) (*machine, error) {
	srv, err := info(ctx, rdb, "server")
	if err != nil {
		return nil, err
	}
	m := &machine{
		cores:     runtime.NumCPU(),
		cpu:       cpuModel(),
		goVersion: runtime.Version(),
		goos:      runtime.GOOS,
		goarch:    runtime.GOARCH,
		redis:     srv["redis_version"],
		deps:      map[string]string{},
		redelay:   redelayRevision(),
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			m.deps[d.Path] = d.Version
		}
	}
	return m, nil
}

// redelayRevision is the commit of the redelay tree that go.mod's replace directive points
// bench at (".."), with "+changes" when files outside bench/ differ from it; "" without git.
func redelayRevision() string {
	out, err := exec.Command("git", "-C", "..", "log", "-1", "--format=%h").Output()
	if err != nil {
		return ""
	}
	rev := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "-C", "..", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		rev += "+changes"
	}
	return rev
}

// loadAverage is the 1-minute load average from /proc/loadavg, or "?" where there is none.
// Other work on the machine while the benchmark runs skews every figure.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}

// cpuModel is the first "model name" of /proc/cpuinfo, or "" where there is none.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func (m *machine) String() string {
	cpu := ""
	if m.cpu != "" {
		cpu = " (" + m.cpu + ")"
	}
	rev := ""
	if m.redelay != "" {
		rev = "redelay " + m.redelay + ", "
	}
	return fmt.Sprintf("%d cores%s, %s/%s, %s, Redis %s, %sasynq %s, go-redis %s",
		m.cores, cpu, m.goos, m.goarch, m.goVersion, m.redis, rev,
		m.dep("github.com/hibiken/asynq"), m.dep("github.com/redis/go-redis/v9"))
}

func (m *machine) dep(path string) string {
	if v := m.deps[path]; v != "" {
		return v
	}
	return "?"
}
