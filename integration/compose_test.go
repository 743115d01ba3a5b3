package integration

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// composeFile is the normalized docker-compose.yml, as much of it as the test reads.
type composeFile struct {
	Services map[string]struct {
		Image   string `json:"image"`
		Command any    `json:"command"`
		Build   struct {
			Context string `json:"context"`
			Target  string `json:"target"`
		} `json:"build"`
		Environment map[string]any `json:"environment"`
		Volumes     []any          `json:"volumes"`
		DependsOn   map[string]any `json:"depends_on"`
	} `json:"services"`
	Volumes map[string]any `json:"volumes"`
}

// TestComposeFileIsValid validates docker-compose.yml with `docker-compose config` (Debian's
// docker-compose package; no Docker engine needed) and checks what the stack promises:
// Redis with AOF on a volume, the worker in push mode pointed at the app with the app's
// secret, and images built from stages and packages that exist.
func TestComposeFileIsValid(t *testing.T) {
	t.Parallel()
	compose, err := exec.LookPath("docker-compose")
	if err != nil {
		t.Skip("skipped: docker-compose is not installed, so docker-compose.yml was not validated (apt-get install -y docker-compose)")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	run := func(env []string, args ...string) (string, string, error) {
		cmd := exec.Command(compose, append([]string{"-f", filepath.Join(root, "docker-compose.yml")}, args...)...)
		cmd.Dir = root
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "REDELAY_") && !strings.HasPrefix(kv, "REDIS_URL=") && !strings.HasPrefix(kv, "COMPOSE_") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env, env...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}

	// Without a secret the stack refuses to start, saying which variable is missing.
	if _, stderr, err := run(nil, "config", "--quiet"); err == nil || !strings.Contains(stderr, "REDELAY_SECRET") {
		t.Errorf("docker-compose config without REDELAY_SECRET: err %v, stderr %q; want a failure naming REDELAY_SECRET", err, stderr)
	}

	env := []string{"REDELAY_SECRET=compose-test-secret"}
	out, stderr, err := run(env, "config")
	if err != nil {
		t.Fatalf("docker-compose config: %v\n%s", err, stderr)
	}
	// Compose v2 prints JSON on request; Debian's v1 prints YAML, which its own python3-yaml reads.
	js, _, err := run(env, "config", "--format", "json")
	if err != nil || !json.Valid([]byte(js)) { // v1 prints its usage and exits 0
		js, err = yamlToJSON(out)
		if err != nil {
			t.Fatalf("reading docker-compose config's YAML: %v", err)
		}
	}
	var cf composeFile
	if err := json.Unmarshal([]byte(js), &cf); err != nil {
		t.Fatalf("docker-compose config: %v\n%s", err, js)
	}

	redis, app, worker := cf.Services["redis"], cf.Services["app"], cf.Services["worker"]
	if len(cf.Services) != 3 || redis.Image == "" || app.Build.Target == "" || worker.Build.Target == "" {
		t.Fatalf("services = %+v, want redis from an image and app and worker built", cf.Services)
	}
	cmdline, _ := json.Marshal(redis.Command)
	if !regexp.MustCompile(`"--appendonly",\s*"yes"`).Match(cmdline) {
		t.Errorf("redis command %s: want --appendonly yes", cmdline)
	}
	if !slices.ContainsFunc(redis.Volumes, func(v any) bool {
		b, _ := json.Marshal(v)
		return strings.Contains(string(b), "redis-data") && strings.Contains(string(b), `/data`)
	}) {
		t.Errorf("redis volumes %v: want the named volume redis-data on /data", redis.Volumes)
	}
	if _, ok := cf.Volumes["redis-data"]; !ok {
		t.Errorf("volumes %v: want redis-data declared", cf.Volumes)
	}

	wenv, aenv := worker.Environment, app.Environment
	if wenv["REDELAY_TARGET"] != "http://app:8080" || aenv["ADDR"] != ":8080" {
		t.Errorf("worker target %v, app address %v: want the worker pushing to the app on 8080", wenv["REDELAY_TARGET"], aenv["ADDR"])
	}
	if wenv["REDELAY_SECRET"] != "compose-test-secret" || aenv["REDELAY_SECRET"] != "compose-test-secret" {
		t.Errorf("secrets: worker %v, app %v; want both REDELAY_SECRET", wenv["REDELAY_SECRET"], aenv["REDELAY_SECRET"])
	}
	for name, e := range map[string]map[string]any{"worker": wenv, "app": aenv} {
		if u, _ := e["REDIS_URL"].(string); !strings.HasPrefix(u, "redis://redis:6379") {
			t.Errorf("%s REDIS_URL = %v, want the redis service", name, e["REDIS_URL"])
		}
	}
	if _, ok := worker.DependsOn["redis"]; !ok {
		t.Errorf("worker depends on %v, want redis", worker.DependsOn)
	}

	// The images: every build target is a Dockerfile stage, every package it builds exists,
	// and its Go is the module's.
	dockerfile, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{app.Build.Target, worker.Build.Target} {
		if !regexp.MustCompile(`(?m)^FROM .* AS ` + regexp.QuoteMeta(target) + `$`).Match(dockerfile) {
			t.Errorf("Dockerfile has no stage %q", target)
		}
	}
	for _, m := range regexp.MustCompile(`go build [^\n]* (\./\S+)`).FindAllSubmatch(dockerfile, -1) {
		if _, err := os.Stat(filepath.Join(root, string(m[1]), "main.go")); err != nil {
			t.Errorf("Dockerfile builds %s: %v", m[1], err)
		}
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	argVersion := regexp.MustCompile(`(?m)^ARG GO_VERSION=(\S+)`).FindSubmatch(dockerfile)
	if goVersion == nil || argVersion == nil || string(goVersion[1]) != string(argVersion[1]) {
		t.Errorf("Dockerfile GO_VERSION %q, go.mod go %q: want the same", argVersion, goVersion)
	}
}

// yamlToJSON converts YAML to JSON with python3's yaml module (python3-yaml, which Debian's
// docker-compose depends on).
func yamlToJSON(y string) (string, error) {
	cmd := exec.Command("python3", "-c", "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)")
	cmd.Stdin = strings.NewReader(y)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", &exec.ExitError{ProcessState: cmd.ProcessState, Stderr: stderr.Bytes()}
	}
	return stdout.String(), nil
}
