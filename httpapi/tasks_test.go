package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redelay/redelay/internal/redistest"
	"github.com/redelay/redelay/taskqueue"
)

type taskReply struct {
	Name           string    `json:"name"`
	Queue          string    `json:"queue"`
	Method         string    `json:"method"`
	Path           string    `json:"path"`
	ETA            time.Time `json:"eta"`
	IdempotencyKey string    `json:"idempotency_key"`
	CallbackURL    string    `json:"callback_url"`
}

type statusReply struct {
	Queue        string              `json:"queue"`
	Name         string              `json:"name"`
	State        string              `json:"state"`
	Attempts     int                 `json:"attempts"`
	LastError    string              `json:"last_error"`
	Permanent    bool                `json:"permanent"`
	Enqueued     *time.Time          `json:"enqueued"`
	Started      *time.Time          `json:"started"`
	Finished     *time.Time          `json:"finished"`
	Code         int                 `json:"code"`
	Headers      map[string][]string `json:"headers"`
	ResultBase64 []byte              `json:"result_base64"`
	Result       json.RawMessage     `json:"result"`
}

func TestAddTaskThenStatusAndResult(t *testing.T) {
	t.Parallel()
	w := setup(t, Config{})
	target := newRecorder(func(rw http.ResponseWriter, r *http.Request, _ int) {
		rw.Header().Set("Content-Type", "application/json")
		rw.Header().Set("X-Answer", "42")
		rw.WriteHeader(http.StatusOK)
		rw.Write([]byte(`{"ok":true}`))
	})
	w.target(target, "jobs")

	r := w.do("POST", "/v1/queues/jobs/tasks", map[string]any{
		"path":    "/work?x=1",
		"method":  "PUT",
		"headers": map[string]any{"Content-Type": "text/plain", "X-Multi": []string{"a", "b"}},
		"body":    "hello",
		"retry":   map[string]any{"retry_limit": 3, "min_backoff": "1s", "max_backoff": 60},
	}).want(t, http.StatusCreated)
	var task taskReply
	r.json(t, &task)
	if task.Name == "" || task.Queue != "jobs" || task.Method != "PUT" || task.Path != "/work?x=1" || task.ETA.IsZero() {
		t.Errorf("task = %+v, want a name, queue jobs, PUT /work?x=1 and an ETA", task)
	}
	if loc := r.header.Get("Location"); loc != "/v1/queues/jobs/tasks/"+task.Name {
		t.Errorf("Location = %q", loc)
	}

	got := target.next(t)
	if got.method != "PUT" || got.uri != "/work?x=1" || string(got.body) != "hello" ||
		got.header.Get("Content-Type") != "text/plain" || strings.Join(got.header.Values("X-Multi"), ",") != "a,b" {
		t.Errorf("target got %s %s %q %v", got.method, got.uri, got.body, got.header)
	}

	var st statusReply
	w.do("GET", "/v1/queues/jobs/tasks/"+task.Name+"?wait=10s", nil).want(t, http.StatusOK).json(t, &st)
	if st.State != "succeeded" || st.Name != task.Name || st.Queue != "jobs" || st.Attempts != 1 || st.Code != 200 {
		t.Errorf("status = %+v, want succeeded after 1 attempt with code 200", st)
	}
	if st.Enqueued == nil || st.Finished == nil {
		t.Errorf("status = %+v, want enqueued and finished times", st)
	}
	if string(st.ResultBase64) != `{"ok":true}` || string(st.Result) != `{"ok":true}` {
		t.Errorf("result_base64 = %q, result = %s, want the target's JSON body in both", st.ResultBase64, st.Result)
	}
	if got := st.Headers["X-Answer"]; len(got) != 1 || got[0] != "42" {
		t.Errorf("headers = %v, want the target's X-Answer", st.Headers)
	}
}

func TestStatusOfWaitingTask(t *testing.T) {
	t.Parallel()
	w := setup(t, Config{})
	var task taskReply
	w.do("POST", "/v1/queues/default/tasks", map[string]any{
		"name": "later", "delay": "1h", "body_base64": base64.StdEncoding.EncodeToString([]byte{0, 1, 2}),
	}).want(t, http.StatusCreated).json(t, &task)
	if task.Name != "later" || task.Method != "POST" || task.Path != "/_ah/queue/default" {
		t.Errorf("task = %+v", task)
	}
	if d := time.Until(task.ETA); d < 59*time.Minute {
		t.Errorf("eta = %s, want an hour from now", task.ETA)
	}

	var st statusReply
	w.do("GET", "/v1/queues/default/tasks/later", nil).want(t, http.StatusOK).json(t, &st)
	if st.State != "waiting" || st.Attempts != 0 || st.Finished != nil || st.Result != nil {
		t.Errorf("status = %+v, want waiting", st)
	}
	// ?wait= gives up when the time has passed and answers with the current status.
	w.do("GET", "/v1/queues/default/tasks/later?wait=20ms", nil).want(t, http.StatusOK).json(t, &st)
	if st.State != "waiting" {
		t.Errorf("status after ?wait= = %+v, want waiting", st)
	}
}

func TestStatusResultNotJSON(t *testing.T) {
	t.Parallel()
	w := setup(t, Config{})
	w.target(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Write([]byte("plain <text>"))
	}), "default")
	var task taskReply
	w.do("POST", "/v1/queues/default/tasks", map[string]any{}).want(t, http.StatusCreated).json(t, &task)
	var st statusReply
	r := w.do("GET", "/v1/queues/default/tasks/"+task.Name+"?wait=10", nil).want(t, http.StatusOK)
	r.json(t, &st)
	if st.State != "succeeded" || string(st.ResultBase64) != "plain <text>" || st.Result != nil {
		t.Errorf("status = %+v, want the body in result_base64 only", st)
	}
	if strings.Contains(string(r.body), `"result":`) {
		t.Errorf("answer has an inline result for a body that is not JSON: %s", r.body)
	}
}

func TestDeleteTask(t *testing.T) {
	t.Parallel()
	w := setup(t, Config{})
	w.do("POST", "/v1/queues/default/tasks", map[string]any{"name": "gone", "delay": 3600}).want(t, http.StatusCreated)
	if n := w.stats("default").Tasks; n != 1 {
		t.Fatalf("tasks = %d, want 1", n)
	}
	r := w.do("DELETE", "/v1/queues/default/tasks/gone", nil).want(t, http.StatusNoContent)
	if len(r.body) != 0 {
		t.Errorf("204 with a body: %s", r.body)
	}
	if n := w.stats("default").Tasks; n != 0 {
		t.Errorf("tasks after DELETE = %d, want 0", n)
	}
	msg := w.do("DELETE", "/v1/queues/default/tasks/gone", nil).want(t, http.StatusNotFound).errorText(t)
	if !strings.Contains(msg, "no such task") {
		t.Errorf("error = %q", msg)
	}
	w.do("GET", "/v1/queues/default/tasks/gone", nil).want(t, http.StatusNotFound).errorText(t)
	w.do("GET", "/v1/queues/default/tasks/never-added", nil).want(t, http.StatusNotFound).errorText(t)
	// The name stays taken.
	msg = w.do("POST", "/v1/queues/default/tasks", map[string]any{"name": "gone"}).want(t, http.StatusConflict).errorText(t)
	if !strings.Contains(msg, "taken") {
		t.Errorf("409 error = %q, want it to say the name is taken", msg)
	}
}

func TestBatch(t *testing.T) {
	t.Parallel()
	w := setup(t, Config{})
	var res struct {
		Tasks []*taskReply `json:"tasks"`
	}
	w.do("POST", "/v1/queues/batch/tasks:batch", map[string]any{"tasks": []any{
		map[string]any{"name": "b1", "delay": "1h"},
		map[string]any{"delay": "1h", "method": "GET", "path": "/x"},
		map[string]any{"name": "b3", "delay": "1h", "method": "PATCH", "body": "{}"},
	}}).want(t, http.StatusCreated).json(t, &res)
	if len(res.Tasks) != 3 || res.Tasks[0].Name != "b1" || res.Tasks[1].Name == "" || res.Tasks[1].Method != "GET" ||
		res.Tasks[2].Name != "b3" || res.Tasks[2].Method != "PATCH" {
		t.Fatalf("tasks = %+v", res.Tasks)
	}
	if n := w.stats("batch").Tasks; n != 3 {
		t.Errorf("tasks = %d, want 3", n)
	}

	// One invalid task: nothing is added, and the answer says which.
	var bad struct {
		Error  string    `json:"error"`
		Errors []*string `json:"errors"`
	}
	w.do("POST", "/v1/queues/batch/tasks:batch", map[string]any{"tasks": []any{
		map[string]any{"name": "c1"},
		map[string]any{"name": "c2", "delay": "soon"},
		map[string]any{"name": "c3"},
	}}).want(t, http.StatusBadRequest).json(t, &bad)
	if !strings.Contains(bad.Error, "tasks[1]") || !strings.Contains(bad.Error, "delay") ||
		len(bad.Errors) != 3 || bad.Errors[0] != nil || bad.Errors[1] == nil || bad.Errors[2] != nil {
		t.Errorf("400 answer = %+v", bad)
	}
	if n := w.stats("batch").Tasks; n != 3 {
		t.Errorf("tasks after an invalid batch = %d, want still 3", n)
	}

	// A taken name: the others are added; 409 says which was not.
	var dup struct {
		Error  string       `json:"error"`
		Errors []*string    `json:"errors"`
		Tasks  []*taskReply `json:"tasks"`
	}
	w.do("POST", "/v1/queues/batch/tasks:batch", map[string]any{"tasks": []any{
		map[string]any{"name": "d1", "delay": "1h"},
		map[string]any{"name": "b1", "delay": "1h"},
		map[string]any{"name": "d3", "delay": "1h"},
	}}).want(t, http.StatusConflict).json(t, &dup)
	if len(dup.Errors) != 3 || dup.Errors[0] != nil || dup.Errors[1] == nil || dup.Errors[2] != nil ||
		len(dup.Tasks) != 3 || dup.Tasks[0] == nil || dup.Tasks[0].Name != "d1" || dup.Tasks[1] != nil || dup.Tasks[2] == nil {
		t.Errorf("409 answer = %s", mustJSON(dup))
	}
	if n := w.stats("batch").Tasks; n != 5 {
		t.Errorf("tasks after a batch with a duplicate = %d, want 5", n)
	}
}

func TestIdempotentAdd(t *testing.T) {
	t.Parallel()
	w := setup(t, Config{})
	body := map[string]any{"idempotency_key": "order-17", "delay": "1h", "body": "charge"}
	var first, second taskReply
	w.do("POST", "/v1/queues/default/tasks", body).want(t, http.StatusCreated).json(t, &first)
	w.do("POST", "/v1/queues/default/tasks", body).want(t, http.StatusCreated).json(t, &second)
	if first.Name == "" || second.Name != first.Name {
		t.Errorf("names %q and %q, want the same", first.Name, second.Name)
	}
	if n := w.stats("default").Tasks; n != 1 {
		t.Errorf("tasks = %d, want 1", n)
	}
	var other taskReply
	w.do("POST", "/v1/queues/default/tasks", map[string]any{"idempotency_key": "order-18", "delay": "1h"}).
		want(t, http.StatusCreated).json(t, &other)
	if other.Name == first.Name {
		t.Errorf("another key gave the same task %q", other.Name)
	}
}

func TestQueues(t *testing.T) {
	t.Parallel()
	w := setup(t, Config{Queues: []string{"default", "mail"}})
	for _, q := range []string{"mail", "mail", "other"} {
		w.do("POST", "/v1/queues/"+q+"/tasks", map[string]any{"delay": "1h"}).want(t, http.StatusCreated)
	}
	type stats struct {
		Queues map[string]struct {
			Tasks     int        `json:"tasks"`
			OldestETA *time.Time `json:"oldest_eta"`
			Dead      int        `json:"dead"`
		} `json:"queues"`
	}
	var s stats
	w.do("GET", "/v1/queues", nil).want(t, http.StatusOK).json(t, &s)
	if len(s.Queues) != 2 || s.Queues["mail"].Tasks != 2 || s.Queues["mail"].OldestETA == nil ||
		s.Queues["default"].Tasks != 0 || s.Queues["default"].OldestETA != nil {
		t.Errorf("stats = %s", mustJSON(s))
	}
	s = stats{}
	w.do("GET", "/v1/queues?queue=other", nil).want(t, http.StatusOK).json(t, &s)
	if len(s.Queues) != 1 || s.Queues["other"].Tasks != 1 {
		t.Errorf("stats of ?queue=other = %s", mustJSON(s))
	}
	msg := w.do("GET", "/v1/queues?queue=no_such!", nil).want(t, http.StatusBadRequest).errorText(t)
	if !strings.Contains(msg, "queue") {
		t.Errorf("error = %q", msg)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestBodyLimits(t *testing.T) {
	t.Parallel()
	_, rdb := redistest.Miniredis(t)
	client := taskqueue.NewClient(rdb, &taskqueue.Config{Logger: quietLogger(), MaxPayloadBytes: 1000})
	w := setup(t, Config{Client: client})
	// The default MaxBodyBytes leaves room for the largest payload in base64.
	w.do("POST", "/v1/queues/lim/tasks", map[string]any{"body_base64": base64.StdEncoding.EncodeToString(make([]byte, 1000))}).
		want(t, http.StatusCreated)
	for _, path := range []string{"/v1/queues/lim/tasks", "/v1/queues/lim/invoke/fn"} {
		var body any = map[string]any{"body": strings.Repeat("x", 1001)}
		if strings.Contains(path, "invoke") {
			body = strings.Repeat("x", 1001)
		}
		msg := w.do("POST", path, body).want(t, http.StatusBadRequest).errorText(t)
		if !strings.Contains(msg, "body: 1001 bytes is over the limit of 1000") {
			t.Errorf("POST %s: error = %q", path, msg)
		}
	}
	if n := w.stats("lim").Tasks; n != 1 {
		t.Errorf("tasks = %d, want 1", n)
	}
}
