package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/redelay/redelay/taskqueue"
)

// taskRequest is the JSON of a task to add.
type taskRequest struct {
	Name           string                  `json:"name"`
	Path           string                  `json:"path"`
	Method         string                  `json:"method"`
	Headers        map[string]headerValues `json:"headers"`
	Body           *string                 `json:"body"`
	BodyBase64     *string                 `json:"body_base64"`
	Delay          json.RawMessage         `json:"delay"`
	ETA            *string                 `json:"eta"`
	Retry          *retryRequest           `json:"retry"`
	IdempotencyKey string                  `json:"idempotency_key"`
	CallbackURL    string                  `json:"callback_url"`
}

// retryRequest is the JSON of a task's retry policy; absent fields mean the queue defaults.
type retryRequest struct {
	RetryLimit   *int32          `json:"retry_limit"`
	AgeLimit     json.RawMessage `json:"age_limit"`
	MinBackoff   json.RawMessage `json:"min_backoff"`
	MaxBackoff   json.RawMessage `json:"max_backoff"`
	MaxDoublings *int32          `json:"max_doublings"`
	NoRetry      bool            `json:"no_retry"`
}

// taskMethods are the methods a task may use. PATCH is stored as POST with
// taskqueue.HeaderMethodOverride, since taskqueue keeps App Engine's methods.
var taskMethods = []string{"GET", "POST", "HEAD", "PUT", "DELETE", "PATCH"}

// task validates req and returns the task to add. Errors say which field is wrong.
func (req *taskRequest) task() (*taskqueue.Task, error) {
	t := &taskqueue.Task{
		Name:           req.Name,
		Method:         req.Method,
		IdempotencyKey: req.IdempotencyKey,
		CallbackURL:    req.CallbackURL,
	}
	if t.Method == "" {
		t.Method = "POST"
	}
	if !contains(taskMethods, t.Method) {
		return nil, fmt.Errorf("method: %q is not one of %s (methods are upper case)", clip(t.Method), strings.Join(taskMethods, ", "))
	}
	if req.Path != "" {
		if err := checkPath(req.Path); err != nil {
			return nil, fmt.Errorf("path: %w", err)
		}
		t.Path = req.Path
	}
	if len(req.Headers) > 0 {
		t.Header = make(http.Header, len(req.Headers))
		for k, vs := range req.Headers {
			if err := checkHeader(k, vs); err != nil {
				return nil, fmt.Errorf("headers: %w", err)
			}
			if http.CanonicalHeaderKey(k) == taskqueue.HeaderMethodOverride {
				return nil, fmt.Errorf("headers: %s is set by the API; give the method as \"method\"", k)
			}
			for _, v := range vs {
				t.Header.Add(k, v)
			}
		}
	}
	switch {
	case req.Body != nil && req.BodyBase64 != nil:
		return nil, errors.New("body: set body or body_base64, not both")
	case req.Body != nil:
		t.Payload = []byte(*req.Body)
	case req.BodyBase64 != nil:
		b, err := base64.StdEncoding.DecodeString(*req.BodyBase64)
		if err != nil {
			return nil, fmt.Errorf("body_base64: not standard base64: %v", err)
		}
		t.Payload = b
	}
	if len(t.Payload) > 0 && !methodHasBody(t.Method) {
		return nil, fmt.Errorf("body: a %s task carries no body (only POST, PUT and PATCH do)", t.Method)
	}
	if t.Method == "PATCH" {
		t.Method = "POST"
		if t.Header == nil {
			t.Header = http.Header{}
		}
		t.Header.Set(taskqueue.HeaderMethodOverride, "PATCH")
	}
	d, hasDelay, err := jsonDuration(req.Delay)
	if err != nil {
		return nil, fmt.Errorf("delay: %w", err)
	}
	if d < 0 {
		return nil, fmt.Errorf("delay: negative %s", d)
	}
	t.Delay = d
	if req.ETA != nil {
		if hasDelay {
			return nil, errors.New("eta: set delay or eta, not both")
		}
		eta, err := time.Parse(time.RFC3339Nano, *req.ETA)
		if err != nil {
			return nil, fmt.Errorf("eta: %q is not an RFC 3339 time such as \"2030-01-02T15:04:05Z\"", clip(*req.ETA))
		}
		t.ETA = eta
	}
	if req.Retry != nil {
		ro, err := req.Retry.options()
		if err != nil {
			return nil, fmt.Errorf("retry.%w", err)
		}
		t.RetryOptions = ro
	}
	if req.CallbackURL != "" {
		if err := checkCallbackURL(req.CallbackURL); err != nil {
			return nil, fmt.Errorf("callback_url: %w", err)
		}
	}
	return t, nil
}

func (rr *retryRequest) options() (*taskqueue.RetryOptions, error) {
	ro := &taskqueue.RetryOptions{}
	if rr.RetryLimit != nil {
		if *rr.RetryLimit < 0 {
			return nil, fmt.Errorf("retry_limit: negative %d", *rr.RetryLimit)
		}
		ro.RetryLimit = *rr.RetryLimit
		ro.ApplyZeroRetryLimit = true
	}
	if rr.NoRetry {
		if ro.RetryLimit > 0 {
			return nil, fmt.Errorf("no_retry: set with retry_limit %d", ro.RetryLimit)
		}
		ro.RetryLimit, ro.ApplyZeroRetryLimit = 0, true
	}
	if rr.MaxDoublings != nil {
		if *rr.MaxDoublings < 0 {
			return nil, fmt.Errorf("max_doublings: negative %d", *rr.MaxDoublings)
		}
		ro.MaxDoublings = *rr.MaxDoublings
		ro.ApplyZeroMaxDoublings = true
	}
	for _, f := range []struct {
		name string
		raw  json.RawMessage
		dst  *time.Duration
	}{
		{"age_limit", rr.AgeLimit, &ro.AgeLimit},
		{"min_backoff", rr.MinBackoff, &ro.MinBackoff},
		{"max_backoff", rr.MaxBackoff, &ro.MaxBackoff},
	} {
		d, _, err := jsonDuration(f.raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		if d < 0 {
			return nil, fmt.Errorf("%s: negative %s", f.name, d)
		}
		*f.dst = d
	}
	if ro.MinBackoff > 0 && ro.MaxBackoff > 0 && ro.MinBackoff > ro.MaxBackoff {
		return nil, fmt.Errorf("min_backoff: %s is more than max_backoff %s", ro.MinBackoff, ro.MaxBackoff)
	}
	return ro, nil
}

func methodHasBody(m string) bool { return m == "POST" || m == "PUT" || m == "PATCH" }

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// checkPath reports what is wrong with a task's path, if anything.
func checkPath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("%q does not start with /", clip(p))
	}
	for _, c := range []byte(p) {
		if c <= ' ' || c == 0x7f || c == '#' {
			return fmt.Errorf("%q has the character %q; escape it (URL encoding)", clip(p), c)
		}
	}
	if _, err := url.ParseRequestURI(p); err != nil {
		return fmt.Errorf("%q is not a URL path: %v", clip(p), errors.Unwrap(err))
	}
	return nil
}

// taskJSON is the JSON of an added task.
type taskJSON struct {
	Name           string    `json:"name"`
	Queue          string    `json:"queue"`
	Method         string    `json:"method"`
	Path           string    `json:"path"`
	ETA            time.Time `json:"eta"`
	IdempotencyKey string    `json:"idempotency_key,omitempty"`
	CallbackURL    string    `json:"callback_url,omitempty"`
}

func taskOut(t *taskqueue.Task, queue string) *taskJSON {
	if t == nil {
		return nil
	}
	m := t.Method
	if o := t.Header.Get(taskqueue.HeaderMethodOverride); o != "" {
		m = o
	}
	return &taskJSON{
		Name: t.Name, Queue: queue, Method: m, Path: t.Path, ETA: t.ETA.UTC(),
		IdempotencyKey: t.IdempotencyKey, CallbackURL: t.CallbackURL,
	}
}

// queue returns r's {queue}, validated.
// readJSON reads the queue of the path and decodes the JSON body of r into v.
func (a *api) readJSON(w http.ResponseWriter, r *http.Request, v any) (queue string, err error) {
	if queue, err = queueOf(r); err != nil {
		return "", err
	}
	b, err := a.readBody(w, r)
	if err != nil {
		return "", err
	}
	return queue, decodeJSON(b, v, "request body")
}

func queueOf(r *http.Request) (string, error) {
	q := r.PathValue("queue")
	if err := taskqueue.ValidateQueueName(q); err != nil {
		var ve *taskqueue.ValidationError
		if errors.As(err, &ve) {
			return "", badRequest("queue: %s", ve.Reason)
		}
		return "", badRequest("queue: %v", err)
	}
	return q, nil
}

func taskURL(queue, name string) string {
	return "/v1/queues/" + queue + "/tasks/" + url.PathEscape(name)
}

// POST /v1/queues/{queue}/tasks
func (a *api) addTask(w http.ResponseWriter, r *http.Request) error {
	var req taskRequest
	q, err := a.readJSON(w, r, &req)
	if err != nil {
		return err
	}
	t, err := req.task()
	if err != nil {
		return badRequest("%v", err)
	}
	out, err := a.cfg.Client.Add(r.Context(), t, q)
	if errors.Is(err, taskqueue.ErrTaskAlreadyAdded) {
		return &apiError{status: http.StatusConflict, msg: fmt.Sprintf("name: %q is taken by a task of queue %s that exists or ended recently", t.Name, q)}
	}
	if err != nil {
		return taskError(err)
	}
	w.Header().Set("Location", taskURL(q, out.Name))
	writeJSON(w, http.StatusCreated, taskOut(out, q))
	return nil
}

// batchRequest is the JSON of POST .../tasks:batch.
type batchRequest struct {
	Tasks []json.RawMessage `json:"tasks"`
}

// batchJSON is the answer of POST .../tasks:batch: the added tasks in request order, and
// on failure the error of each task (null for the tasks that are fine).
type batchJSON struct {
	Error  string      `json:"error,omitempty"`
	Errors []*string   `json:"errors,omitempty"`
	Tasks  []*taskJSON `json:"tasks"`
}

// POST /v1/queues/{queue}/tasks:batch
func (a *api) addBatch(w http.ResponseWriter, r *http.Request) error {
	var req batchRequest
	q, err := a.readJSON(w, r, &req)
	if err != nil {
		return err
	}
	switch {
	case req.Tasks == nil:
		return badRequest(`request body: missing "tasks", the array of tasks to add`)
	case len(req.Tasks) == 0:
		return badRequest("tasks: empty array; nothing to add")
	case len(req.Tasks) > MaxBatchTasks:
		return badRequest("tasks: %d tasks is over the limit of %d per batch", len(req.Tasks), MaxBatchTasks)
	}
	tasks := make([]*taskqueue.Task, len(req.Tasks))
	errs := make([]*string, len(req.Tasks))
	var msgs []string
	for i, raw := range req.Tasks {
		what := fmt.Sprintf("tasks[%d]", i)
		var tr taskRequest
		err := decodeJSON(raw, &tr, what)
		if err == nil && string(bytes.TrimSpace(raw)) == "null" {
			err = fmt.Errorf("%s: null; expected a JSON object", what)
		}
		if err == nil {
			tasks[i], err = tr.task()
			if err != nil {
				err = fmt.Errorf("%s: %w", what, err)
			}
		}
		if err != nil {
			s := err.Error()
			errs[i] = &s
			msgs = append(msgs, s)
		}
	}
	if len(msgs) > 0 {
		return batchInvalid(errs, msgs)
	}
	out, err := a.cfg.Client.AddMulti(r.Context(), tasks, q)
	var me taskqueue.MultiError
	switch {
	case err == nil:
		res := batchJSON{Tasks: make([]*taskJSON, len(out))}
		for i, t := range out {
			res.Tasks[i] = taskOut(t, q)
		}
		writeJSON(w, http.StatusCreated, res)
		return nil
	case errors.As(err, &me) && out == nil:
		// Invalid tasks taskqueue caught: nothing was added.
		for i, e := range me {
			if e != nil {
				s := fmt.Sprintf("tasks[%d]: %v", i, taskError(e))
				errs[i] = &s
				msgs = append(msgs, s)
			}
		}
		return batchInvalid(errs, msgs)
	case errors.As(err, &me):
		// Duplicates: the others were added.
		res := batchJSON{Errors: make([]*string, len(out)), Tasks: make([]*taskJSON, len(out))}
		n := 0
		for i, t := range out {
			if i < len(me) && me[i] != nil {
				s := taskError(me[i]).Error()
				res.Errors[i] = &s
				n++
				continue
			}
			res.Tasks[i] = taskOut(t, q)
		}
		res.Error = fmt.Sprintf("%d of %d tasks were not added: their names are taken; the others were added", n, len(out))
		return &apiError{status: http.StatusConflict, msg: res.Error, body: res}
	}
	return taskError(err)
}

// batchInvalid is the answer to a batch with invalid tasks: 400, nothing added.
func batchInvalid(errs []*string, msgs []string) error {
	msg := strings.Join(msgs[:min(len(msgs), 5)], "; ")
	if len(msgs) > 5 {
		msg += fmt.Sprintf("; and %d more", len(msgs)-5)
	}
	res := batchJSON{Error: msg + " (nothing was added)", Errors: errs, Tasks: []*taskJSON{}}
	return &apiError{status: http.StatusBadRequest, msg: res.Error, body: res}
}

// statusJSON is the JSON of a task's status.
type statusJSON struct {
	Queue     string     `json:"queue"`
	Name      string     `json:"name"`
	State     string     `json:"state"`
	Attempts  int        `json:"attempts"`
	LastError string     `json:"last_error,omitempty"`
	Permanent bool       `json:"permanent"`
	Reason    string     `json:"reason,omitempty"`
	Enqueued  *time.Time `json:"enqueued,omitempty"`
	Started   *time.Time `json:"started,omitempty"`
	Finished  *time.Time `json:"finished,omitempty"`
	// Code and Headers are the status code and headers of the delivery that finished the task.
	Code    int         `json:"code,omitempty"`
	Headers http.Header `json:"headers,omitempty"`
	// ResultBase64 is the body of that delivery's response, and Result the same body when
	// it is JSON.
	ResultBase64 []byte          `json:"result_base64,omitempty"`
	Result       json.RawMessage `json:"result,omitempty"`
}

func statusOut(st *taskqueue.Status) *statusJSON {
	out := &statusJSON{
		Queue: st.Queue, Name: st.Name, State: st.State, Attempts: st.Attempts,
		LastError: st.LastError, Permanent: st.Permanent, Reason: st.Reason,
		Enqueued: optTime(st.Enqueued), Started: optTime(st.Started), Finished: optTime(st.Finished),
		Code: st.Code, Headers: st.Header,
	}
	if len(st.Result) > 0 {
		out.ResultBase64 = st.Result
		if json.Valid(st.Result) {
			out.Result = json.RawMessage(st.Result)
		}
	}
	return out
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// GET /v1/queues/{queue}/tasks/{name}[?wait=10s]
func (a *api) taskStatus(w http.ResponseWriter, r *http.Request) error {
	q, err := queueOf(r)
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	wait, _, err := queryDuration(r, "wait", a.cfg.MaxWait)
	if err != nil {
		return err
	}
	st, err := a.status(r.Context(), q, name, wait)
	if err != nil {
		return taskError(err)
	}
	writeJSON(w, http.StatusOK, statusOut(st))
	return nil
}

// status returns the status of a task, waiting up to wait for it to finish.
func (a *api) status(ctx context.Context, queue, name string, wait time.Duration) (*taskqueue.Status, error) {
	if wait <= 0 {
		return a.cfg.Client.Status(ctx, queue, name)
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	st, err := a.cfg.Client.Wait(wctx, queue, name)
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return a.cfg.Client.Status(ctx, queue, name)
	}
	return st, err
}

// DELETE /v1/queues/{queue}/tasks/{name}
func (a *api) deleteTask(w http.ResponseWriter, r *http.Request) error {
	q, err := queueOf(r)
	if err != nil {
		return err
	}
	if err := a.cfg.Client.Delete(r.Context(), &taskqueue.Task{Name: r.PathValue("name")}, q); err != nil {
		return taskError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
