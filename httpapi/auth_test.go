package httpapi

import (
	"net/http"
	"strings"
	"testing"
)

func TestAuth(t *testing.T) {
	t.Parallel()
	w := setup(t, Config{})
	for _, tc := range []struct {
		name, auth string
		want       int
		msg        string
	}{
		{"missing", "", http.StatusUnauthorized, "missing"},
		{"wrong key", "Bearer nope", http.StatusUnauthorized, "not accepted"},
		{"prefix of a key", "Bearer test-key", http.StatusUnauthorized, "not accepted"},
		{"other scheme", "Basic " + testKey, http.StatusUnauthorized, "Bearer"},
		{"no key", "Bearer ", http.StatusUnauthorized, "Bearer"},
		{"right key", "Bearer " + testKey, http.StatusOK, ""},
		{"other right key", "Bearer other-key", http.StatusOK, ""},
		{"scheme in lower case", "bearer " + testKey, http.StatusOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := w.doKey("", "GET", "/v1/queues", nil, "Authorization", tc.auth).want(t, tc.want)
			if tc.want != http.StatusUnauthorized {
				return
			}
			if msg := r.errorText(t); !strings.Contains(msg, tc.msg) {
				t.Errorf("error = %q, want it to mention %q", msg, tc.msg)
			}
			if r.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	// Nothing is revealed or done without the key: not even which paths exist.
	w.doKey("", "GET", "/v1/nowhere", nil).want(t, http.StatusUnauthorized)
	w.doKey("wrong", "POST", "/v1/queues/default/tasks", map[string]any{}).want(t, http.StatusUnauthorized)
	w.doKey("wrong", "POST", "/v1/queues/default/invoke/x", "").want(t, http.StatusUnauthorized)
	w.doKey("", "GET", "/v1/openapi.json", nil).want(t, http.StatusUnauthorized)
	if n := w.stats("default").Tasks; n != 0 {
		t.Errorf("tasks = %d after refused requests, want 0", n)
	}
}

func TestNoKeyConfiguredRefusesAll(t *testing.T) {
	t.Parallel()
	w := setup(t, Config{APIKeys: []string{}})
	for _, key := range []string{"", testKey, "anything"} {
		msg := w.doKey(key, "GET", "/v1/queues", nil).want(t, http.StatusUnauthorized).errorText(t)
		if !strings.Contains(msg, "no API key is configured") {
			t.Errorf("error = %q", msg)
		}
	}
}

func TestUnknownEndpoint(t *testing.T) {
	t.Parallel()
	w := setup(t, Config{})
	msg := w.do("GET", "/v1/nowhere", nil).want(t, http.StatusNotFound).errorText(t)
	if !strings.Contains(msg, "/v1/nowhere") {
		t.Errorf("404 error = %q", msg)
	}
	r := w.do("PUT", "/v1/queues/default/tasks", "{}").want(t, http.StatusMethodNotAllowed)
	if msg := r.errorText(t); !strings.Contains(msg, "POST") || !strings.Contains(r.header.Get("Allow"), "POST") {
		t.Errorf("405 = %q, Allow %q", msg, r.header.Get("Allow"))
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	w := setup(t, Config{})
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no client", Config{}, "Client"},
		{"empty key", Config{Client: w.client, APIKeys: []string{"k", ""}}, "APIKeys[1]"},
		{"bad queue", Config{Client: w.client, Queues: []string{"a b"}}, "Queues"},
		{"timeout over max", Config{Client: w.client, InvokeTimeout: 2 * DefaultMaxWait}, "InvokeTimeout"},
	} {
		if _, err := New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: New: %v, want an error naming %s", tc.name, err, tc.want)
		}
	}
}
