package httpapi

import (
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/redelay/redelay/taskqueue"
)

// Request headers of invoke.
const (
	// HeaderCallbackURL makes an invoke asynchronous: the API answers 202 at once and the
	// worker POSTs the outcome to this URL (see taskqueue.Task.CallbackURL).
	HeaderCallbackURL = "X-Callback-Url"
	// HeaderIdempotencyKey makes an invoke idempotent (see taskqueue.Task.IdempotencyKey):
	// a repeat answers with the first call's outcome.
	HeaderIdempotencyKey = "Idempotency-Key"
)

// hopHeaders are the headers an invoke does not pass on, either way: hop-by-hop headers
// (RFC 9110 section 7.6.1), the caller's credentials, the API's own control headers, and
// Accept-Encoding: the worker negotiates compression with the target itself and keeps the
// decoded body, since status pollers and callbacks did not ask for an encoding.
var hopHeaders = []string{
	"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade", "Expect", "Host", "Content-Length",
	"Accept-Encoding", "Authorization", HeaderCallbackURL, taskqueue.HeaderMethodOverride,
	taskqueue.HeaderSignature,
}

// passHeaders returns a copy of h without hopHeaders and the headers h's Connection names.
func passHeaders(h http.Header) http.Header {
	out := h.Clone()
	for _, c := range h.Values("Connection") {
		for _, f := range strings.Split(c, ",") {
			if f = textproto.TrimString(f); f != "" {
				out.Del(f)
			}
		}
	}
	for _, k := range hopHeaders {
		out.Del(k)
	}
	return out
}

// invokeJSON answers an async invoke (202) and a sync invoke the target did not answer in
// time (504, with Error) or at all (502, with Error).
type invokeJSON struct {
	Error     string `json:"error,omitempty"`
	ID        string `json:"id"`
	Queue     string `json:"queue"`
	State     string `json:"state,omitempty"`
	StatusURL string `json:"status_url"`
}

// POST|GET|PUT|PATCH|DELETE /v1/queues/{queue}/invoke/{path...}
func (a *api) invoke(w http.ResponseWriter, r *http.Request) error {
	q, err := queueOf(r)
	if err != nil {
		return err
	}
	path, err := invokePath(r)
	if err != nil {
		return err
	}
	timeout, _, err := queryDuration(r, "timeout", a.cfg.MaxWait)
	if err != nil {
		return err
	}
	if _, ok := r.URL.Query()["timeout"]; !ok {
		timeout = a.cfg.InvokeTimeout
	}
	callback := r.Header.Get(HeaderCallbackURL)
	if callback != "" {
		if err := checkCallbackURL(callback); err != nil {
			return badRequest("%s: %v", HeaderCallbackURL, err)
		}
	}
	body, err := a.readBody(w, r)
	if err != nil {
		return err
	}
	method := r.Method
	if len(body) > 0 && !methodHasBody(method) {
		return badRequest("a %s invoke carries no body (only POST, PUT and PATCH do); the body has %d bytes", method, len(body))
	}
	t := &taskqueue.Task{
		Path:           path,
		Method:         method,
		Header:         passHeaders(r.Header),
		Payload:        body,
		IdempotencyKey: r.Header.Get(HeaderIdempotencyKey),
		CallbackURL:    callback,
	}
	if method == http.MethodPatch {
		t.Method = http.MethodPost
		t.Header.Set(taskqueue.HeaderMethodOverride, method)
	}
	if callback == "" {
		// The caller gets the target's answer, whatever it is: a failure is final.
		t.RetryOptions = taskqueue.NoRetry()
	}
	out, err := a.cfg.Client.Add(r.Context(), t, q)
	if err != nil {
		return taskError(err)
	}
	id := out.Name
	res := invokeJSON{ID: id, Queue: q, StatusURL: taskURL(q, id)}
	w.Header().Set(taskqueue.HeaderCallID, id)
	if callback != "" {
		w.Header().Set("Location", res.StatusURL)
		writeJSON(w, http.StatusAccepted, res)
		return nil
	}

	st, err := a.status(r.Context(), q, id, timeout)
	if err != nil {
		return taskError(err)
	}
	res.State = st.State
	if !st.Done() || st.Code < 200 || st.Code > 999 {
		w.Header().Set("Location", res.StatusURL)
	}
	if !st.Done() {
		res.Error = fmt.Sprintf("the target has not answered within %s; the call goes on: poll GET %s", timeout, res.StatusURL)
		return &apiError{status: http.StatusGatewayTimeout, msg: res.Error, body: res}
	}
	if st.Code < 200 || st.Code > 999 {
		why := st.LastError
		if why == "" {
			why = st.Reason
		}
		res.Error = fmt.Sprintf("the call failed without an answer from the target: %s", why)
		return &apiError{status: http.StatusBadGateway, msg: res.Error, body: res}
	}
	h := w.Header()
	for k, vs := range passHeaders(st.Header) {
		h[k] = vs
	}
	h.Set(taskqueue.HeaderCallID, id)
	w.WriteHeader(st.Code)
	_, _ = w.Write(st.Result)
	return nil
}

// invokePath returns the target path and query of an invoke: what follows /invoke in r's
// path, as the caller escaped it, and r's query without ?timeout=.
func invokePath(r *http.Request) (string, error) {
	p := r.URL.EscapedPath()
	rest, ok := strings.CutPrefix(p, "/v1/queues/")
	if ok {
		_, rest, ok = strings.Cut(rest, "/") // the queue
	}
	if ok {
		rest, ok = strings.CutPrefix(rest, "invoke/")
	}
	if !ok { // not the path the route was written for: rebuild it from the wildcard
		var segs []string
		for _, s := range strings.Split(r.PathValue("path"), "/") {
			segs = append(segs, url.PathEscape(s))
		}
		rest = strings.Join(segs, "/")
	}
	if rest == "" {
		return "", badRequest("missing the target path after /invoke/")
	}
	if n := strings.Count(strings.TrimSuffix(rest, "/"), "/") + 1; n > maxInvokeLevels {
		return "", badRequest("the target path /%s has %d levels; an invoke may name at most %d", clip(rest), n, maxInvokeLevels)
	}
	path := "/" + rest
	if q := stripQueryParam(r.URL.RawQuery, "timeout"); q != "" {
		path += "?" + q
	}
	return path, nil
}

// stripQueryParam returns the raw query q without the parameters named name, keeping the
// others as they were written.
func stripQueryParam(q, name string) string {
	if q == "" {
		return ""
	}
	parts := strings.Split(q, "&")
	kept := parts[:0]
	for _, part := range parts {
		k, _, _ := strings.Cut(part, "=")
		if uk, err := url.QueryUnescape(k); err == nil && uk == name {
			continue
		}
		kept = append(kept, part)
	}
	return strings.Join(kept, "&")
}
