package integration

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redelay/redelay/taskqueue"
)

// TestPushModeSignsDeliveries runs the worker binary in push mode: every task reaches the
// target through taskqueue.RequireSignature with its body and App Engine headers, the -http
// listener reports health and stats, and requests the worker did not sign are refused with
// 401 before the handler runs.
func TestPushModeSignsDeliveries(t *testing.T) {
	t.Parallel()
	w := sharedRedis(t)
	const secret = "push-mode-secret"
	rc := newRecorder(secret)
	target := rc.server(t, "target")
	wk := startWorker(t, "worker", w.workerArgs(target, secret, "-queues", "default=1,mail=3", "-http", "127.0.0.1:0", "-concurrency", "8")...)

	names := addTasks(t, w.client, "default", 50)
	mail := addTasks(t, w.client, "mail", 50)
	rc.waitDone(t, within, append(append([]string(nil), names...), mail...))

	deliveries, _ := rc.snapshot()
	queueOf := map[string]string{}
	for _, n := range names {
		queueOf[n] = "default"
	}
	for _, n := range mail {
		queueOf[n] = "mail"
	}
	for _, d := range deliveries {
		if d.queue != queueOf[d.name] || d.method != http.MethodPost || d.path != "/work" || !strings.HasPrefix(d.body, "task ") {
			t.Errorf("delivery %+v: want POST /work with its body, queue %q", d, queueOf[d.name])
		}
		if d.retryCount != 0 || d.execCount != 0 {
			t.Errorf("delivery %+v: first delivery with retry or execution count", d)
		}
	}
	waitEmpty(t, w.client, "default")
	waitEmpty(t, w.client, "mail")

	// The worker's own HTTP listener.
	addr, _ := wk.waitLog(t, "http listening")["addr"].(string)
	base := "http://" + addr
	if code, body := httpGet(t, base+"/healthz"); code != http.StatusOK {
		t.Errorf("GET /healthz = %d %q, want 200", code, body)
	}
	code, body := httpGet(t, base+"/stats")
	var st struct {
		Queues map[string]struct {
			Tasks      int `json:"tasks"`
			Executed1m int `json:"executed_1m"`
			InFlight   int `json:"in_flight"`
			Dead       int `json:"dead"`
		} `json:"queues"`
	}
	if err := json.Unmarshal([]byte(body), &st); code != http.StatusOK || err != nil {
		t.Fatalf("GET /stats = %d %q (%v)", code, body, err)
	}
	for _, q := range []string{"default", "mail"} {
		s, ok := st.Queues[q]
		if !ok || s.Tasks != 0 || s.InFlight != 0 || s.Dead != 0 || s.Executed1m == 0 {
			t.Errorf("GET /stats: queue %s = %+v (present %v), want empty with executed tasks", q, s, ok)
		}
	}

	// Requests the worker did not sign never reach the handler.
	before := len(deliveries)
	forge := func(name string, sign func(r *http.Request, body []byte)) {
		t.Helper()
		body := []byte("forged " + name)
		req, err := http.NewRequest(http.MethodPost, target+"/work", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(taskqueue.HeaderQueueName, "default")
		req.Header.Set(taskqueue.HeaderTaskName, name)
		sign(req, body)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", name, resp.StatusCode)
		}
	}
	forge("unsigned", func(*http.Request, []byte) {})
	forge("wrong-key", func(r *http.Request, body []byte) {
		taskqueue.SignRequest(r, body, time.Now(), []byte("not the secret"))
	})
	forge("replayed", func(r *http.Request, body []byte) {
		taskqueue.SignRequest(r, body, time.Now().Add(-taskqueue.SignatureMaxAge-time.Minute), []byte(secret))
	})
	forge("tampered-body", func(r *http.Request, body []byte) {
		taskqueue.SignRequest(r, []byte("what was signed"), time.Now(), []byte(secret))
	})
	forge("tampered-headers", func(r *http.Request, body []byte) {
		taskqueue.SignRequest(r, body, time.Now(), []byte(secret))
		r.Header.Set(taskqueue.HeaderTaskRetryCount, "7")
	})
	forge("garbage-signature", func(r *http.Request, body []byte) {
		r.Header.Set(taskqueue.HeaderSignature, "t=1,v1=zz")
	})
	if after, _ := rc.snapshot(); len(after) != before {
		t.Errorf("the handler ran for %d forged requests", len(after)-before)
	}

	wk.signal(t, syscall.SIGTERM)
	if code := wk.exit(t, within); code != 0 {
		t.Errorf("worker exit code %d after SIGTERM, want 0", code)
	}
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestWorkerRefusesToStartWithoutItsDependencies checks the binary's start-up: an
// unreachable Redis or target, or a bad flag, is one line on stderr and a non-zero exit.
func TestWorkerRefusesToStartWithoutItsDependencies(t *testing.T) {
	t.Parallel()
	w := sharedRedis(t)
	nowhere := freeAddr(t)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unreachable Redis", []string{"-redis", "redis://" + nowhere + "/0", "-http", "off"}, 1, "worker: cannot reach Redis at redis://" + nowhere},
		{"unreachable target", w.workerArgs("http://"+nowhere, "k"), 1, "worker: cannot reach target http://" + nowhere},
		{"target without secret", []string{"-redis", w.url, "-target", "http://" + nowhere, "-http", "off"}, 2, "worker: -target needs -secret"},
		{"bad flag", []string{"-concurrency", "lots"}, 2, "worker: invalid value \"lots\" for flag -concurrency"},
	}
	for _, tt := range tests {
		p := startWorker(t, tt.name, tt.args...)
		code := p.exit(t, within)
		out := p.out.String()
		if code != tt.code || !strings.HasPrefix(out, tt.want) || strings.Count(out, "\n") != 1 {
			t.Errorf("%s: exit %d, output %q; want exit %d and one line starting %q", tt.name, code, out, tt.code, tt.want)
		}
	}
}
