package workercmd

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/redelay/redelay/internal/redistest"
)

func apiRequest(t *testing.T, method, url, key, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRunServesTheAPIWithItsKeys(t *testing.T) {
	t.Parallel()
	mr, _ := redistest.Miniredis(t)
	r := start(t, Command{Extensions: []Extension{APIExtension(io.Discard)}},
		"-redis", "redis://"+mr.Addr(), "-http", "127.0.0.1:0", "-api-key", "k1", "-api-key", "k2", "-queues", "default")
	base := "http://" + r.stderr.waitMatch(t, listeningRE)
	for _, key := range []string{"k1", "k2"} {
		if code, body := apiRequest(t, "POST", base+"/v1/queues/default/tasks", key, `{"path":"/x","delay":"1h"}`); code != http.StatusCreated {
			t.Errorf("POST task with key %s = %d %s, want 201", key, code, body)
		}
	}
	if code, _ := apiRequest(t, "GET", base+"/v1/queues", "wrong", ""); code != http.StatusUnauthorized {
		t.Errorf("wrong key: %d, want 401", code)
	}
	if code, body := apiRequest(t, "GET", base+"/v1/queues", "k1", ""); code != http.StatusOK || !strings.Contains(body, `"default"`) {
		t.Errorf("GET /v1/queues = %d %s", code, body)
	}
}

func TestRunWithoutAPIKeysRefusesTheAPI(t *testing.T) {
	t.Parallel()
	mr, _ := redistest.Miniredis(t)
	r := start(t, Command{Extensions: []Extension{APIExtension(io.Discard)}}, "-redis", "redis://"+mr.Addr(), "-http", "127.0.0.1:0")
	base := "http://" + r.stderr.waitMatch(t, listeningRE)
	if code, _ := apiRequest(t, "GET", base+"/v1/queues", "anything", ""); code != http.StatusUnauthorized {
		t.Errorf("no keys configured: %d, want 401", code)
	}
}

func TestRunTakesAPIKeysFromTheEnvironment(t *testing.T) {
	t.Parallel()
	mr, _ := redistest.Miniredis(t)
	ctx, cancel := context.WithCancel(context.Background())
	stderr := newOutput()
	done := make(chan int, 1)
	getenv := func(name string) string {
		return map[string]string{"REDELAY_API_KEYS": "a, b", "REDIS_URL": "redis://" + mr.Addr(), "REDELAY_HTTP": "127.0.0.1:0"}[name]
	}
	go func() { done <- Run(ctx, nil, getenv, io.Discard, stderr) }()
	defer func() { cancel(); <-done }()
	base := "http://" + stderr.waitMatch(t, listeningRE)
	for _, key := range []string{"a", "b"} {
		if code, body := apiRequest(t, "GET", base+"/v1/queues", key, ""); code != http.StatusOK {
			t.Errorf("key %q from REDELAY_API_KEYS: %d %s, want 200", key, code, body)
		}
	}
}

func TestDevModePrintsAGeneratedAPIKey(t *testing.T) {
	t.Parallel()
	notices := newOutput()
	r := start(t, Command{Extensions: []Extension{APIExtension(notices)}}, "-dev", "-dev-addr", "127.0.0.1:0", "-http", "127.0.0.1:0")
	base := "http://" + r.stderr.waitMatch(t, listeningRE)
	key := notices.waitMatch(t, regexp.MustCompile(`Authorization: Bearer ([0-9a-f]{32})`))
	if code, body := apiRequest(t, "GET", base+"/v1/queues", key, ""); code != http.StatusOK {
		t.Errorf("GET /v1/queues with the printed key = %d %s, want 200", code, body)
	}
}
