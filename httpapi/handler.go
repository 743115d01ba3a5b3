package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
)

// route is one endpoint: the ServeMux pattern and the method that serves it. The OpenAPI
// description lists every route (a test checks it).
type route struct {
	method, path string
	serve        func(a *api, w http.ResponseWriter, r *http.Request) error
}

// invokeMethods are the methods a sync or async invoke may use.
var invokeMethods = []string{"POST", "GET", "PUT", "PATCH", "DELETE"}

func routes() []route {
	rs := []route{
		{"POST", "/v1/queues/{queue}/tasks", (*api).addTask},
		{"POST", "/v1/queues/{queue}/tasks:batch", (*api).addBatch},
		{"GET", "/v1/queues/{queue}/tasks/{name}", (*api).taskStatus},
		{"DELETE", "/v1/queues/{queue}/tasks/{name}", (*api).deleteTask},
		{"GET", "/v1/queues", (*api).queueStats},
		{"GET", "/v1/openapi.json", (*api).openAPI},
	}
	for _, m := range invokeMethods {
		rs = append(rs, route{m, "/v1/queues/{queue}/invoke/{path...}", (*api).invoke})
	}
	return rs
}

// api is the handler New returns.
type api struct {
	cfg  Config
	keys [][sha256.Size]byte // hashes of cfg.APIKeys, compared in constant time
	mux  *http.ServeMux
}

// New returns the HTTP API for any language, served under /v1: add, inspect and delete
// tasks, invoke a target synchronously or with a callback, read queue statistics and the
// API's OpenAPI description (GET /v1/openapi.json). Every request needs
// "Authorization: Bearer <key>" with one of cfg.APIKeys. Errors name the bad Config field.
func New(cfg Config) (http.Handler, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	a := &api{cfg: cfg, mux: http.NewServeMux()}
	for _, k := range cfg.APIKeys {
		a.keys = append(a.keys, sha256.Sum256([]byte(k)))
	}
	for _, rt := range routes() {
		a.mux.HandleFunc(rt.method+" "+rt.path, func(w http.ResponseWriter, r *http.Request) {
			if err := rt.serve(a, w, r); err != nil {
				a.fail(w, r, err)
			}
		})
	}
	return a, nil
}

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if msg := a.authorize(r); msg != "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="redelay"`)
		a.fail(w, r, &apiError{status: http.StatusUnauthorized, msg: msg})
		return
	}
	if _, pattern := a.mux.Handler(r); pattern == "" {
		// No route: let the mux answer (404, 405 with Allow, or a redirect to the clean
		// path) and turn its plain-text error into a JSON one.
		a.mux.ServeHTTP(&unrouted{ResponseWriter: w, a: a, r: r}, r)
		return
	}
	a.mux.ServeHTTP(w, r)
}

// authorize returns why r may not use the API, or "" when it may.
func (a *api) authorize(r *http.Request) string {
	if len(a.keys) == 0 {
		return "no API key is configured on this server, so every request is refused (set -api-key or REDELAY_API_KEYS)"
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return `missing header "Authorization: Bearer <API key>"`
	}
	scheme, key, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return `the Authorization header must be "Bearer <API key>"`
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(key)))
	match := 0
	for i := range a.keys {
		match |= subtle.ConstantTimeCompare(sum[:], a.keys[i][:])
	}
	if match != 1 {
		return "the API key is not accepted"
	}
	return ""
}

// unrouted turns the mux's own error answers (404, 405) into JSON errors.
type unrouted struct {
	http.ResponseWriter
	a       *api
	r       *http.Request
	swallow bool
}

func (u *unrouted) WriteHeader(code int) {
	switch code {
	case http.StatusNotFound:
		u.swallow = true
		u.a.writeError(u.ResponseWriter, &apiError{status: code, msg: "no endpoint " + u.r.Method + " " + u.r.URL.Path + "; see GET /v1/openapi.json"})
	case http.StatusMethodNotAllowed:
		u.swallow = true
		u.a.writeError(u.ResponseWriter, &apiError{status: code, msg: "method " + u.r.Method + " is not allowed on " + u.r.URL.Path + "; allowed: " + u.Header().Get("Allow")})
	default:
		u.ResponseWriter.WriteHeader(code)
	}
}

func (u *unrouted) Write(p []byte) (int, error) {
	if u.swallow {
		return len(p), nil
	}
	return u.ResponseWriter.Write(p)
}

// fail answers r with err: an *apiError as it says, anything else as 500, logged.
func (a *api) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		if r.Context().Err() != nil {
			return // the caller is gone
		}
		a.cfg.Logger.Error("http api request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		ae = &apiError{status: http.StatusInternalServerError, msg: err.Error()}
	}
	a.writeError(w, ae)
}
