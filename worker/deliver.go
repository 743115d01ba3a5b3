package worker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/redelay/redelay/taskqueue"
)

// Response bodies kept: the start of a failing one becomes the task's last error; a
// successful one is the task's result; the final failing one of a dead task is kept too.
const (
	maxErrorBody  = 1024
	maxResultBody = 1 << 20
	maxDeadBody   = 64 << 10
)

// newRequest builds the delivery of j: the task's method, path, body and headers, plus App
// Engine's task headers.
func newRequest(ctx context.Context, base string, j *job) (*http.Request, []byte, error) {
	env := j.env
	method := env.Method
	if method == "" {
		method = http.MethodPost
	}
	url := base + env.Path
	if env.Path == "" {
		url = base + "/_ah/queue/" + j.queue
	}
	if env.URL != "" {
		url = env.URL
	}
	var body []byte
	if method == http.MethodPost || method == http.MethodPut {
		body = env.Payload
	}
	override := ""
	for k, vs := range env.Header {
		if http.CanonicalHeaderKey(k) == taskqueue.HeaderMethodOverride && len(vs) > 0 {
			override = vs[0]
		}
	}
	if override != "" {
		method = override
		body = env.Payload
	}
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return nil, nil, fmt.Errorf("build request for %s %s: %w", method, url, err)
	}
	h := req.Header
	for k, vs := range env.Header {
		h[http.CanonicalHeaderKey(k)] = vs
	}
	h.Del(taskqueue.HeaderMethodOverride)
	h.Set(taskqueue.HeaderQueueName, j.queue)
	h.Set(taskqueue.HeaderTaskName, j.leased.Name)
	h.Set(taskqueue.HeaderTaskRetryCount, strconv.FormatInt(j.leased.Token-1, 10))
	h.Set(taskqueue.HeaderTaskExecutionCount, strconv.FormatInt(int64(env.Failures), 10))
	h.Set(taskqueue.HeaderTaskETA, taskqueue.FormatETA(time.UnixMilli(env.ETA)))
	if env.LastStatus != 0 {
		h.Set(taskqueue.HeaderTaskPreviousResponse, strconv.Itoa(env.LastStatus))
	}
	if env.LastError != "" {
		h.Set(taskqueue.HeaderTaskRetryReason, oneLine(env.LastError, 200))
	}
	return req, body, nil
}

func oneLine(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	return clipText(s, n)
}

// readOutcome turns a response into an outcome.
func readOutcome(status int, h http.Header, body []byte) outcome {
	out := outcome{status: status, header: h, result: body}
	if status >= 200 && status < 300 {
		return out
	}
	out.body = string(body[:min(len(body), maxErrorBody)])
	out.permanent = h.Get(taskqueue.HeaderFailure) == taskqueue.FailurePermanent
	if status == http.StatusServiceUnavailable {
		out.retryAfter = parseRetryAfter(h.Get("Retry-After"))
	}
	return out
}

func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), time.Millisecond)
	}
	return 0
}

// handlerDeliverer delivers in-process to an http.Handler.
type handlerDeliverer struct {
	h       http.Handler
	client  *taskqueue.Client // in the request's context, for tasks that add tasks
	timeout time.Duration
}

func (d handlerDeliverer) deliver(base context.Context, j *job) (out outcome) {
	ctx, cancel := context.WithTimeout(taskqueue.WithClient(base, d.client), d.timeout)
	defer cancel()
	req, _, err := newRequest(ctx, "http://worker.local", j)
	if err != nil {
		return outcome{err: err, permanent: true}
	}
	req.RequestURI = req.URL.RequestURI()
	req.RemoteAddr = "127.0.0.1:0"
	rec := &recorder{header: http.Header{}}
	defer func() {
		if p := recover(); p != nil {
			out = outcome{status: http.StatusInternalServerError, err: fmt.Errorf("handler panicked: %v\n%s", p, debug.Stack())}
		}
	}()
	start := time.Now()
	d.h.ServeHTTP(rec, req)
	if time.Since(start) > d.timeout {
		return outcome{status: rec.code(), err: fmt.Errorf("delivery outlived its deadline of %s", d.timeout)}
	}
	return readOutcome(rec.code(), rec.header, rec.body.Bytes())
}

// recorder is the http.ResponseWriter of in-process deliveries: it keeps the status, the
// headers and the start of the body.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	if room := maxResultBody - r.body.Len(); room > 0 {
		r.body.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (r *recorder) code() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

// httpDeliverer pushes deliveries to Target over HTTP, signed with Secret.
type httpDeliverer struct {
	base   string
	secret []byte
	client *http.Client
}

func newHTTPDeliverer(cfg Config) *httpDeliverer {
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{
			Timeout: cfg.DeliveryTimeout,
			Transport: &http.Transport{
				Proxy:               http.ProxyFromEnvironment,
				MaxIdleConns:        2 * cfg.Concurrency,
				MaxIdleConnsPerHost: 2 * cfg.Concurrency,
				IdleConnTimeout:     90 * time.Second,
			},
		}
	}
	return &httpDeliverer{base: strings.TrimRight(cfg.Target, "/"), secret: cfg.Secret, client: client}
}

func (d *httpDeliverer) deliver(ctx context.Context, j *job) outcome {
	req, body, err := newRequest(ctx, d.base, j)
	if err != nil {
		return outcome{err: err, permanent: true}
	}
	if len(d.secret) > 0 {
		taskqueue.SignRequest(req, body, time.Now(), d.secret)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("delivery outlived its deadline: %w", err)
		}
		return outcome{err: err}
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(io.LimitReader(resp.Body, maxResultBody))
	if err != nil {
		return outcome{status: resp.StatusCode, err: fmt.Errorf("read response: %w", err)}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return readOutcome(resp.StatusCode, resp.Header, respBody)
}
