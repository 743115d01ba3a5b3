package httpapi

import (
	"net/http"
	"strings"
	"testing"
)

// TestBadInput sends every kind of bad request: each gets 400 with a JSON error that says
// what is wrong, and nothing is enqueued.
func TestBadInput(t *testing.T) {
	t.Parallel()
	w := setup(t, Config{MaxBodyBytes: 4096})
	big := strings.Repeat("x", 5000)
	for _, tc := range []struct {
		name, method, path string
		body               any
		header             []string
		want               string // in the error text
	}{
		{"bad JSON", "POST", "/v1/queues/bad/tasks", `{"name": `, nil, "not valid JSON"},
		{"syntax error", "POST", "/v1/queues/bad/tasks", `{"name" "x"}`, nil, "not valid JSON"},
		{"empty body", "POST", "/v1/queues/bad/tasks", "", nil, "empty"},
		{"not an object", "POST", "/v1/queues/bad/tasks", `[1, 2]`, nil, "expected a JSON object"},
		{"trailing data", "POST", "/v1/queues/bad/tasks", `{} {}`, nil, "after the JSON object"},
		{"unknown field", "POST", "/v1/queues/bad/tasks", `{"nmae": "x"}`, nil, `unknown field "nmae"`},
		{"unknown retry field", "POST", "/v1/queues/bad/tasks", `{"retry": {"limit": 3}}`, nil, `unknown field "limit"`},
		{"wrong type", "POST", "/v1/queues/bad/tasks", `{"name": 7}`, nil, "field name: expected a string"},
		{"wrong nested type", "POST", "/v1/queues/bad/tasks", `{"retry": {"retry_limit": "five"}}`, nil, "retry.retry_limit: expected an integer"},
		{"oversized body", "POST", "/v1/queues/bad/tasks", map[string]any{"body": big}, nil, "over the limit of 4096 bytes"},
		{"bad queue name", "POST", "/v1/queues/bad_queue!/tasks", map[string]any{}, nil, "queue:"},
		{"bad task name", "POST", "/v1/queues/bad/tasks", map[string]any{"name": "a b"}, nil, "name:"},
		{"long task name", "POST", "/v1/queues/bad/tasks", map[string]any{"name": strings.Repeat("n", 501)}, nil, "name:"},
		{"bad method", "POST", "/v1/queues/bad/tasks", map[string]any{"method": "FETCH"}, nil, `method: "FETCH"`},
		{"lower-case method", "POST", "/v1/queues/bad/tasks", map[string]any{"method": "get"}, nil, "method:"},
		{"pull method", "POST", "/v1/queues/bad/tasks", map[string]any{"method": "PULL"}, nil, "method:"},
		{"relative path", "POST", "/v1/queues/bad/tasks", map[string]any{"path": "work"}, nil, "path:"},
		{"path with space", "POST", "/v1/queues/bad/tasks", map[string]any{"path": "/a b"}, nil, "path:"},
		{"bad delay", "POST", "/v1/queues/bad/tasks", map[string]any{"delay": "10 parsecs"}, nil, "delay:"},
		{"negative delay", "POST", "/v1/queues/bad/tasks", map[string]any{"delay": -5}, nil, "delay: negative"},
		{"delay as bool", "POST", "/v1/queues/bad/tasks", map[string]any{"delay": true}, nil, "delay:"},
		{"bad eta", "POST", "/v1/queues/bad/tasks", map[string]any{"eta": "tomorrow"}, nil, "eta:"},
		{"delay and eta", "POST", "/v1/queues/bad/tasks", map[string]any{"delay": "1s", "eta": "2030-01-01T00:00:00Z"}, nil, "not both"},
		{"body and body_base64", "POST", "/v1/queues/bad/tasks", map[string]any{"body": "a", "body_base64": "YQ=="}, nil, "not both"},
		{"bad base64", "POST", "/v1/queues/bad/tasks", map[string]any{"body_base64": "!!!"}, nil, "body_base64:"},
		{"body on GET", "POST", "/v1/queues/bad/tasks", map[string]any{"method": "GET", "body": "x"}, nil, "carries no body"},
		{"bad header name", "POST", "/v1/queues/bad/tasks", map[string]any{"headers": map[string]any{"Bad Name": "x"}}, nil, "headers:"},
		{"bad header value", "POST", "/v1/queues/bad/tasks", map[string]any{"headers": map[string]any{"X-A": "a\nb"}}, nil, "headers:"},
		{"header value not a string", "POST", "/v1/queues/bad/tasks", map[string]any{"headers": map[string]any{"X-A": 1}}, nil, "headers:"},
		{"method override header", "POST", "/v1/queues/bad/tasks", map[string]any{"headers": map[string]any{"X-Redelay-Method": "PATCH"}}, nil, "headers:"},
		{"bad retry duration", "POST", "/v1/queues/bad/tasks", map[string]any{"retry": map[string]any{"min_backoff": "fast"}}, nil, "retry.min_backoff:"},
		{"negative retry limit", "POST", "/v1/queues/bad/tasks", map[string]any{"retry": map[string]any{"retry_limit": -1}}, nil, "retry.retry_limit: negative"},
		{"min over max backoff", "POST", "/v1/queues/bad/tasks", map[string]any{"retry": map[string]any{"min_backoff": "1m", "max_backoff": "1s"}}, nil, "retry.min_backoff:"},
		{"no_retry with a limit", "POST", "/v1/queues/bad/tasks", map[string]any{"retry": map[string]any{"no_retry": true, "retry_limit": 2}}, nil, "retry.no_retry:"},
		{"relative callback", "POST", "/v1/queues/bad/tasks", map[string]any{"callback_url": "/hook"}, nil, "callback_url:"},
		{"ftp callback", "POST", "/v1/queues/bad/tasks", map[string]any{"callback_url": "ftp://example.com/x"}, nil, "callback_url:"},
		{"callback without host", "POST", "/v1/queues/bad/tasks", map[string]any{"callback_url": "http:///x"}, nil, "callback_url:"},

		{"batch not an array", "POST", "/v1/queues/bad/tasks:batch", `{"tasks": {}}`, nil, "field tasks"},
		{"batch without tasks", "POST", "/v1/queues/bad/tasks:batch", `{}`, nil, `missing "tasks"`},
		{"empty batch", "POST", "/v1/queues/bad/tasks:batch", `{"tasks": []}`, nil, "empty"},
		{"batch with null", "POST", "/v1/queues/bad/tasks:batch", `{"tasks": [{}, null]}`, nil, "tasks[1]"},
		{"batch with unknown field", "POST", "/v1/queues/bad/tasks:batch", `{"tasks": [{}, {}, {"x": 1}]}`, nil, `tasks[2]: unknown field "x"`},
		{"batch with a bad task", "POST", "/v1/queues/bad/tasks:batch", map[string]any{"tasks": []any{map[string]any{}, map[string]any{"method": "X"}}}, nil, "tasks[1]: method"},
		{"batch too long", "POST", "/v1/queues/bad/tasks:batch", `{"tasks": [` + strings.Repeat("{},", MaxBatchTasks) + `{}]}`, nil, "over the limit"},

		{"invoke with a relative callback", "POST", "/v1/queues/bad/invoke/fn", "x", []string{"X-Callback-Url", "hook"}, "X-Callback-Url:"},
		{"invoke with a bad timeout", "POST", "/v1/queues/bad/invoke/fn?timeout=soon", "x", nil, "?timeout=:"},
		{"invoke with a negative timeout", "POST", "/v1/queues/bad/invoke/fn?timeout=-1s", "x", nil, "negative"},
		{"invoke with a huge timeout", "POST", "/v1/queues/bad/invoke/fn?timeout=100h", "x", nil, "over the limit"},
		{"invoke too deep", "GET", "/v1/queues/bad/invoke/a/b/c/d/e", nil, nil, "at most 4"},
		{"invoke without a path", "GET", "/v1/queues/bad/invoke/", nil, nil, "missing the target path"},
		{"invoke GET with a body", "GET", "/v1/queues/bad/invoke/fn", "body", nil, "carries no body"},
		{"invoke oversized", "POST", "/v1/queues/bad/invoke/fn", big, nil, "over the limit of 4096 bytes"},
		{"invoke bad queue", "POST", "/v1/queues/b%20d/invoke/fn", "x", nil, "queue:"},

		{"status with a bad wait", "GET", "/v1/queues/bad/tasks/x?wait=long", nil, nil, "?wait=:"},
		{"status of a bad name", "GET", "/v1/queues/bad/tasks/a%20b", nil, nil, "name:"},
		{"delete a bad name", "DELETE", "/v1/queues/bad/tasks/a%20b", nil, nil, "name:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := w.do(tc.method, tc.path, tc.body, tc.header...).want(t, http.StatusBadRequest)
			if msg := r.errorText(t); !strings.Contains(msg, tc.want) {
				t.Errorf("error = %q, want it to contain %q", msg, tc.want)
			}
			if st := w.stats("bad"); st.Tasks != 0 || st.Dead != 0 {
				t.Errorf("queue has %d tasks and %d dead after a bad request, want none", st.Tasks, st.Dead)
			}
		})
	}
}
