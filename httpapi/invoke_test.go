package httpapi

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/redelay/redelay/taskqueue"
)

// echo answers 201 with the request's method, URI and some headers in its headers, and its
// body as the body.
func echo(rw http.ResponseWriter, r *http.Request, _ int) {
	b, _ := io.ReadAll(r.Body)
	h := rw.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Echo-Method", r.Method)
	h.Set("X-Echo-Uri", r.URL.RequestURI())
	h.Set("X-Echo-Custom", r.Header.Get("X-Custom"))
	h.Set("X-Echo-Authorization", r.Header.Get("Authorization"))
	h.Add("Set-Cookie", "a=1")
	h.Add("Set-Cookie", "b=2")
	rw.WriteHeader(http.StatusCreated)
	rw.Write([]byte("echo:" + string(b)))
}

func TestSyncInvoke(t *testing.T) {
	t.Parallel()
	w := setup(t, Config{})
	target := newRecorder(echo)
	w.target(target, "fn")

	for _, tc := range []struct {
		method, path, body string
		wantURI, wantBody  string
	}{
		{"POST", "/v1/queues/fn/invoke/hello?a=1&timeout=10s&b=x%20y", "payload", "/hello?a=1&b=x%20y", "echo:payload"},
		{"GET", "/v1/queues/fn/invoke/a/b/c/d?q=1", "", "/a/b/c/d?q=1", "echo:"},
		{"PUT", "/v1/queues/fn/invoke/items/7", "seven", "/items/7", "echo:seven"},
		{"PATCH", "/v1/queues/fn/invoke/items/7", `{"n":8}`, "/items/7", `echo:{"n":8}`},
		{"DELETE", "/v1/queues/fn/invoke/items/7/", "", "/items/7/", "echo:"},
		{"POST", "/v1/queues/fn/invoke/odd%2Fname/x", "", "/odd%2Fname/x", "echo:"},
	} {
		t.Run(tc.method+" "+tc.wantURI, func(t *testing.T) {
			r := w.do(tc.method, tc.path, tc.body, "X-Custom", "kept", "Connection", "X-Hop", "X-Hop", "dropped")
			r.want(t, http.StatusCreated)
			if string(r.body) != tc.wantBody {
				t.Errorf("body = %q, want %q", r.body, tc.wantBody)
			}
			h := r.header
			if h.Get("X-Echo-Method") != tc.method || h.Get("X-Echo-Uri") != tc.wantURI {
				t.Errorf("target saw %s %s, want %s %s", h.Get("X-Echo-Method"), h.Get("X-Echo-Uri"), tc.method, tc.wantURI)
			}
			if h.Get("X-Echo-Custom") != "kept" || h.Get("X-Echo-Authorization") != "" {
				t.Errorf("target saw X-Custom %q and Authorization %q, want kept and none", h.Get("X-Echo-Custom"), h.Get("X-Echo-Authorization"))
			}
			if got := strings.Join(h.Values("Set-Cookie"), ";"); got != "a=1;b=2" {
				t.Errorf("Set-Cookie = %q, want both of the target's", got)
			}
			if h.Get("Content-Type") != "text/plain; charset=utf-8" {
				t.Errorf("Content-Type = %q, want the target's", h.Get("Content-Type"))
			}
			if h.Get("Location") != "" {
				t.Errorf("Location %q added to the target's answer", h.Get("Location"))
			}
			id := h.Get("X-Call-Id")
			if id == "" {
				t.Fatal("no X-Call-Id")
			}
			got := target.next(t)
			if got.header.Get("X-Hop") != "" {
				t.Errorf("a header named in Connection reached the target: %v", got.header)
			}
			if got.header.Get(taskqueue.HeaderTaskName) != id {
				t.Errorf("X-Call-Id %q is not the task's name %q", id, got.header.Get(taskqueue.HeaderTaskName))
			}
			var st statusReply
			w.do("GET", "/v1/queues/fn/tasks/"+id, nil).want(t, http.StatusOK).json(t, &st)
			if st.State != "succeeded" || st.Code != http.StatusCreated {
				t.Errorf("status of the call = %+v", st)
			}
		})
	}
}

func TestSyncInvokeFailureIsTheAnswer(t *testing.T) {
	t.Parallel()
	w := setup(t, Config{})
	target := newRecorder(func(rw http.ResponseWriter, r *http.Request, _ int) {
		rw.Header().Set("X-Why", "broken")
		rw.WriteHeader(http.StatusInternalServerError)
		rw.Write([]byte("it broke"))
	})
	w.target(target, "default")

	r := w.do("POST", "/v1/queues/default/invoke/fail", "x").want(t, http.StatusInternalServerError)
	if string(r.body) != "it broke" || r.header.Get("X-Why") != "broken" || r.header.Get("X-Call-Id") == "" {
		t.Errorf("answer = %d %v %q, want the target's", r.code, r.header, r.body)
	}
	var st statusReply
	w.do("GET", "/v1/queues/default/tasks/"+r.header.Get("X-Call-Id"), nil).want(t, http.StatusOK).json(t, &st)
	if st.State != "dead" || st.Attempts != 1 {
		t.Errorf("status = %+v, want dead after one attempt (a sync call is not retried)", st)
	}
	if n := target.count(); n != 1 {
		t.Errorf("target called %d times, want 1", n)
	}
}

func TestSyncInvokeNoAnswer(t *testing.T) {
	t.Parallel()
	w := setup(t, Config{})
	// The target's connection is cut: there is no answer at all.
	w.target(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		conn, _, err := rw.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}), "default")
	r := w.do("GET", "/v1/queues/default/invoke/cut", nil).want(t, http.StatusBadGateway)
	if msg := r.errorText(t); !strings.Contains(msg, "without an answer") || r.header.Get("X-Call-Id") == "" {
		t.Errorf("502 = %q %v", msg, r.header)
	}
}

func TestSyncInvokeTimeout(t *testing.T) {
	t.Parallel()
	w := setup(t, Config{})
	release := make(chan struct{})
	w.target(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		<-release
		rw.Header().Set("Content-Type", "application/json")
		rw.Write([]byte(`{"late":true}`))
	}), "slow")

	r := w.do("POST", "/v1/queues/slow/invoke/work?timeout=50ms", "").want(t, http.StatusGatewayTimeout)
	id := r.header.Get("X-Call-Id")
	var res struct {
		Error     string `json:"error"`
		ID        string `json:"id"`
		State     string `json:"state"`
		StatusURL string `json:"status_url"`
	}
	r.json(t, &res)
	if id == "" || res.ID != id || res.StatusURL != "/v1/queues/slow/tasks/"+id || r.header.Get("Location") != res.StatusURL ||
		!strings.Contains(res.Error, "poll") {
		t.Errorf("504 = %v %s", r.header, r.body)
	}
	close(release)

	var st statusReply
	w.do("GET", res.StatusURL+"?wait=10s", nil).want(t, http.StatusOK).json(t, &st)
	if st.State != "succeeded" || string(st.Result) != `{"late":true}` {
		t.Errorf("status after the timeout = %+v", st)
	}
}

func TestIdempotentInvoke(t *testing.T) {
	t.Parallel()
	w := setup(t, Config{})
	target := newRecorder(echo)
	w.target(target, "default")
	first := w.do("POST", "/v1/queues/default/invoke/pay", "1", "Idempotency-Key", "pay-1").want(t, http.StatusCreated)
	again := w.do("POST", "/v1/queues/default/invoke/pay", "1", "Idempotency-Key", "pay-1").want(t, http.StatusCreated)
	if id := first.header.Get("X-Call-Id"); id == "" || again.header.Get("X-Call-Id") != id || string(again.body) != "echo:1" {
		t.Errorf("repeat answered %v %q, want the first call (%s)", again.header, again.body, id)
	}
	if n := target.count(); n != 1 {
		t.Errorf("target called %d times, want 1", n)
	}
}

func TestAsyncInvokeWithCallback(t *testing.T) {
	t.Parallel()
	w := setup(t, Config{})
	w.target(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rw.Header().Set("X-Fn", "done")
		rw.WriteHeader(http.StatusAccepted)
		rw.Write([]byte("result of " + string(b)))
	}), "async")
	// The callback receiver fails twice before it accepts; it checks the signature.
	cb := newRecorder(func(rw http.ResponseWriter, r *http.Request, n int) {
		if n <= 2 {
			http.Error(rw, "not yet", http.StatusInternalServerError)
		}
	})
	cbSrv := httptest.NewServer(taskqueue.RequireSignature(secret, cb)) // an unsigned callback never reaches cb
	t.Cleanup(cbSrv.Close)

	r := w.do("POST", "/v1/queues/async/invoke/job", "input", "X-Callback-Url", cbSrv.URL+"/hook?k=v").want(t, http.StatusAccepted)
	var res struct {
		ID        string `json:"id"`
		Queue     string `json:"queue"`
		StatusURL string `json:"status_url"`
	}
	r.json(t, &res)
	if res.ID == "" || r.header.Get("X-Call-Id") != res.ID || res.Queue != "async" {
		t.Fatalf("202 = %v %s", r.header, r.body)
	}

	var last recorded
	for i := 1; i <= 3; i++ {
		last = cb.next(t)
	}
	if last.method != "POST" || last.uri != "/hook?k=v" || string(last.body) != "result of input" {
		t.Errorf("callback = %s %s %q", last.method, last.uri, last.body)
	}
	h := last.header
	if h.Get("X-Function-Status") != "202" || h.Get("X-Call-Id") != res.ID || h.Get("X-Fn") != "done" {
		t.Errorf("callback headers = %v, want X-Function-Status 202, X-Call-Id %s and the target's X-Fn", h, res.ID)
	}
	if d, err := strconv.ParseFloat(h.Get("X-Duration-Seconds"), 64); err != nil || d < 0 {
		t.Errorf("X-Duration-Seconds = %q", h.Get("X-Duration-Seconds"))
	}
	var st statusReply
	w.do("GET", res.StatusURL, nil).want(t, http.StatusOK).json(t, &st)
	if st.State != "succeeded" || string(st.ResultBase64) != "result of input" {
		t.Errorf("status of the call = %+v", st)
	}
}
