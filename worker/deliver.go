package worker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
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

// The task headers' keys in canonical form, to set them without canonicalising each time.
var (
	canonicalMethodOverride   = http.CanonicalHeaderKey(taskqueue.HeaderMethodOverride)
	canonicalQueueName        = http.CanonicalHeaderKey(taskqueue.HeaderQueueName)
	canonicalTaskName         = http.CanonicalHeaderKey(taskqueue.HeaderTaskName)
	canonicalRetryCount       = http.CanonicalHeaderKey(taskqueue.HeaderTaskRetryCount)
	canonicalExecutionCount   = http.CanonicalHeaderKey(taskqueue.HeaderTaskExecutionCount)
	canonicalETA              = http.CanonicalHeaderKey(taskqueue.HeaderTaskETA)
	canonicalPreviousResponse = http.CanonicalHeaderKey(taskqueue.HeaderTaskPreviousResponse)
	canonicalRetryReason      = http.CanonicalHeaderKey(taskqueue.HeaderTaskRetryReason)
)

// urlCache keeps parsed delivery URLs: tasks share a few paths.
var urlCache struct {
	sync.Mutex
	m map[string]*url.URL
}

// parseURL returns a fresh copy of the parsed rawURL (handlers may change it).
func parseURL(rawURL string) (*url.URL, error) {
	urlCache.Lock()
	u, ok := urlCache.m[rawURL]
	urlCache.Unlock()
	if !ok {
		var err error
		if u, err = url.Parse(rawURL); err != nil {
			return nil, err
		}
		urlCache.Lock()
		if urlCache.m == nil || len(urlCache.m) >= 4096 {
			urlCache.m = map[string]*url.URL{}
		}
		urlCache.m[rawURL] = u
		urlCache.Unlock()
	}
	cp := *u
	return &cp, nil
}

// newRequest builds the delivery of j: the task's method, path, body and headers, plus App
// Engine's task headers.
func newRequest(ctx context.Context, base string, j *job) (*http.Request, []byte, error) {
	env := j.env
	method := env.Method
	if method == "" {
		method = http.MethodPost
	}
	target := base + env.Path
	if env.Path == "" {
		target = base + "/_ah/queue/" + j.queue
	}
	if env.URL != "" {
		target = env.URL
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
	u, err := parseURL(target)
	if err != nil {
		return nil, nil, fmt.Errorf("build request for %s %s: %w", method, target, err)
	}
	h := make(http.Header, len(env.Header)+5)
	for k, vs := range env.Header {
		h[http.CanonicalHeaderKey(k)] = vs
	}
	delete(h, canonicalMethodOverride)
	// One backing array for the values of the headers every delivery has.
	vals := [5]string{j.queue, j.leased.Name, strconv.FormatInt(j.leased.Token-1, 10),
		strconv.FormatInt(int64(env.Failures), 10), taskqueue.FormatETA(time.UnixMilli(env.ETA))}
	v := vals[:]
	h[canonicalQueueName] = v[0:1:1]
	h[canonicalTaskName] = v[1:2:2]
	h[canonicalRetryCount] = v[2:3:3]
	h[canonicalExecutionCount] = v[3:4:4]
	h[canonicalETA] = v[4:5:5]
	if env.LastStatus != 0 {
		h[canonicalPreviousResponse] = []string{strconv.Itoa(env.LastStatus)}
	}
	if env.LastError != "" {
		h[canonicalRetryReason] = []string{oneLine(env.LastError, 200)}
	}
	r := http.Request{
		Method:        method,
		URL:           u,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          http.NoBody,
		ContentLength: int64(len(body)),
		Host:          u.Host,
	}
	if len(body) > 0 {
		r.Body = newBodyReader(body)
	}
	return r.WithContext(ctx), body, nil // r stays on the stack: one allocation
}

// bodyReader is a request body read from memory.
type bodyReader struct{ bytes.Reader }

func newBodyReader(b []byte) *bodyReader {
	r := &bodyReader{}
	r.Reset(b)
	return r
}

// Close does nothing: the body is in memory.
func (*bodyReader) Close() error { return nil }

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
	timeout time.Duration
}

func (d handlerDeliverer) deliver(base context.Context, j *job) (out outcome) {
	ctx := withLazyDeadline(base, time.Now().Add(d.timeout))
	defer ctx.release()
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
	if len(body) > 0 { // lets the client follow a 307/308 redirect or replay on a new connection
		req.GetBody = func() (io.ReadCloser, error) { return newBodyReader(body), nil }
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
