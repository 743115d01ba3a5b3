package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/redelay/redelay/taskqueue"
)

// apiError is an answer other than success: {"error": msg} with status, or body when set.
type apiError struct {
	status int
	msg    string
	body   any // replaces {"error": msg} when set; must have an "error" field
}

func (e *apiError) Error() string { return e.msg }

// errorBody is the JSON of every error answer.
type errorBody struct {
	Error string `json:"error"`
}

func badRequest(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

func (a *api) writeError(w http.ResponseWriter, e *apiError) {
	body := e.body
	if body == nil {
		body = errorBody{Error: e.msg}
	}
	writeJSON(w, e.status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // only our own types are written: a bug
		status = http.StatusInternalServerError
		b, _ = json.Marshal(errorBody{Error: "encode answer: " + err.Error()})
	}
	h := w.Header()
	h.Del("Content-Length")
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// fieldNames maps taskqueue's names of Task fields to the API's JSON names.
var fieldNames = map[string]string{
	"Name":           "name",
	"Path":           "path",
	"Method":         "method",
	"Header":         "headers",
	"Payload":        "body",
	"Delay":          "delay",
	"ETA":            "eta",
	"IdempotencyKey": "idempotency_key",
	"CallbackURL":    "callback_url",
	"queue":          "queue",
}

// taskError turns an error of taskqueue into the API's answer: 400 for a task that cannot
// be added, 404 for an unknown task, 409 for a name that is taken; other errors are returned
// as they are (500).
func taskError(err error) error {
	var ve *taskqueue.ValidationError
	switch {
	case errors.As(err, &ve):
		return badRequest("%s: %s", jsonField(ve.Field), ve.Reason)
	case errors.Is(err, taskqueue.ErrTaskNotFound):
		return &apiError{status: http.StatusNotFound, msg: "no such task (unknown, or its status has expired)"}
	case errors.Is(err, taskqueue.ErrTaskAlreadyAdded):
		return &apiError{status: http.StatusConflict, msg: "the task name is taken by a task that exists or ended recently"}
	case strings.HasPrefix(err.Error(), "taskqueue: bad method"):
		return badRequest("method: %s", strings.TrimPrefix(err.Error(), "taskqueue: "))
	}
	return err
}

func jsonField(f string) string {
	if n, ok := fieldNames[f]; ok {
		return n
	}
	if rest, ok := strings.CutPrefix(f, "RetryOptions."); ok {
		return "retry." + snake(rest)
	}
	return f
}

// snake turns "MinBackoff" into "min_backoff".
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// readBody reads r's body, up to the configured limit.
func (a *api) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, badRequest("the request body is over the limit of %d bytes", tooBig.Limit)
	}
	if err != nil {
		return nil, badRequest("reading the request body: %v", err)
	}
	return b, nil
}

// decodeJSON decodes one JSON object from b into v, refusing unknown fields and trailing
// data. what names the value in errors ("request body", "tasks[3]").
func decodeJSON(b []byte, v any, what string) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return badRequest("%s is empty; expected a JSON object", what)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("%s: %s", what, jsonErrorText(err, b))
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("%s: unexpected data after the JSON object", what)
	}
	return nil
}

func jsonErrorText(err error, b []byte) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("not valid JSON: %s (at byte %d)", syn.Error(), syn.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return fmt.Sprintf("expected a JSON object, got %s", typ.Value)
		}
		return fmt.Sprintf("field %s: expected %s, got %s", typ.Field, jsonType(typ.Type.String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Sprintf("not valid JSON: unexpected end after %d bytes", len(b))
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return "unknown field " + f
	}
	return strings.TrimPrefix(msg, "json: ")
}

// jsonType names a Go type the way a JSON user would.
func jsonType(t string) string {
	switch {
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "an integer"
	case strings.HasPrefix(t, "float"):
		return "a number"
	case t == "string":
		return "a string"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "[]"):
		return "an array"
	}
	return "an object"
}
