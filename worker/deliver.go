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

// maxErrorBody is how much of a failing response's body becomes the task's last error.
const maxErrorBody = 1024

// newRequest builds the delivery of j: the task's method, path, body and headers, plus App
// Engine's task headers.
func newRequest(ctx context.Context, base string, j *job) (*http.Request, []byte, error) {
	env := j.env
	method := env.Method
	if method == "" {
		method = http.MethodPost
	}
	path := env.Path
	if path == "" {
		path = "/_ah/queue/" + j.queue
	}
	var body []byte
	if method == http.MethodPost || method == http.MethodPut {
		body = env.Payload
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
	if err != nil {
		return nil, nil, fmt.Errorf("build request for %s %s: %w", method, path, err)
	}
	h := req.Header
	for k, vs := range env.Header {
		h[http.CanonicalHeaderKey(k)] = vs
	}
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
func readOutcome(status int, h http.Header, body string) outcome {
	out := outcome{status: status}
	if status >= 200 && status < 300 {
		return out
	}
	out.body = body
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
	timeout time.Duration
}

func (d handlerDeliverer) deliver(base context.Context, j *job) (out outcome) {
	ctx, cancel := context.WithTimeout(base, d.timeout)
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
	return readOutcome(rec.code(), rec.header, rec.body.String())
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
	if room := maxErrorBody - r.body.Len(); room > 0 {
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
	taskqueue.SignRequest(req, body, time.Now(), d.secret)
	resp, err := d.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("delivery outlived its deadline: %w", err)
		}
		return outcome{err: err}
	}
	defer resp.Body.Close()
	var text []byte
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		text, _ = io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return readOutcome(resp.StatusCode, resp.Header, string(text))
}
