package delay

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"runtime/debug"

	"github.com/redelay/redelay/taskqueue"
)

type headersKey struct{}

// RequestHeaders returns the task headers of the delivery running the delayed function
// whose context is ctx, or a context derived from it: the queue, the task's name, its retry
// and execution counts, its ETA (to the microsecond) and the previous attempt's status.
// Outside a delayed function it returns ErrOutsideDelayFunc, whose text is App Engine's:
// "request headers are only available inside a delay.Func".
func RequestHeaders(ctx context.Context) (*taskqueue.RequestHeaders, error) {
	if h, ok := ctx.Value(headersKey{}).(*taskqueue.RequestHeaders); ok {
		return h, nil
	}
	return nil, ErrOutsideDelayFunc
}

// HandlerConfig configures NewHandler. The zero value is what Handler uses.
type HandlerConfig struct {
	// Logger receives the handler's logs. nil means slog.Default() at the time of each
	// delivery.
	Logger *slog.Logger
	// Client, when set, goes into the context of the functions the handler runs (see
	// taskqueue.WithClient), so that the tasks they add, with Call or taskqueue.Add, go to
	// it. nil leaves the request's context as it is.
	Client *taskqueue.Client
}

// Handler returns the handler of delay's tasks, to serve Path. The worker uses it for
// in-process delivery when its Config names no handler; mount it at Path to run delay's
// tasks delivered over HTTP.
//
// For each delivery it decodes the task's payload, finds the function by its key and calls
// it with the task's arguments (a nil argument as its parameter type's zero value) and a
// context derived from the request's that carries the task headers (see RequestHeaders).
// Its response follows the delivery protocol (see taskqueue.HeaderFailure):
//
//   - 200 when the function returned, with a nil error if its last result is an error;
//   - 500, a failed attempt retried per the task's RetryOptions, when the function returned
//     a non-nil error (the body holds its text), panicked (the panic is recovered and
//     logged with its stack), or is not registered in this process: a rolling deploy may
//     not have it yet, and a process that has it may run the task later;
//   - 500 with HeaderFailure "permanent", so the task is dead at once with the reason, when
//     the function returned an error made by Permanent, the payload cannot be decoded, or
//     the task's arguments no longer fit the function's parameters.
//
// Nothing that did not run gets a 200. Failures are logged at level Error with the
// attributes func_key, task, queue, attempt (1 on the first delivery) and error.
func Handler() http.Handler { return NewHandler(HandlerConfig{}) }

// NewHandler returns Handler's handler configured by cfg.
func NewHandler(cfg HandlerConfig) http.Handler { return &handler{cfg: cfg} }

type handler struct {
	cfg HandlerConfig
}

func (h *handler) logger() *slog.Logger {
	if h.cfg.Logger != nil {
		return h.cfg.Logger
	}
	return slog.Default()
}

// outcome is how a delivery ends.
type outcome struct {
	permanent bool
	msg       string // the response body; empty on success
	result    []byte // the encoded result on success, if the function has one
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := taskqueue.ParseRequestHeaders(r.Header)
	log := h.logger().With(
		slog.String("task", hdr.TaskName),
		slog.String("queue", hdr.QueueName),
		slog.Int64("attempt", hdr.TaskRetryCount+1),
	)
	done := false
	defer func() {
		// Only runtime.Goexit (t.FailNow in a test, for one) gets here without done: the
		// function did not finish, so the attempt failed.
		if !done {
			msg := "delay: func called runtime.Goexit"
			log.Error("delay: func did not return", slog.String("error", msg))
			respond(w, outcome{msg: msg})
		}
	}()
	res := h.serve(r, hdr, log)
	done = true
	respond(w, res)
}

func respond(w http.ResponseWriter, res outcome) {
	if res.msg == "" {
		if res.result != nil {
			w.Header().Set("Content-Type", ResultContentType)
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(res.result)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if res.permanent {
		w.Header().Set(taskqueue.HeaderFailure, taskqueue.FailurePermanent)
	}
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = io.WriteString(w, res.msg)
}

func (h *handler) serve(r *http.Request, hdr *taskqueue.RequestHeaders, log *slog.Logger) outcome {
	body, err := readBody(r)
	if err != nil {
		// The delivery broke off: a plain failed attempt, the task is intact.
		msg := fmt.Sprintf("delay: reading task payload: %v", err)
		log.Error("delay: reading task payload failed", slog.String("error", err.Error()))
		return outcome{msg: msg}
	}
	dec := gob.NewDecoder(bytes.NewReader(body))
	inv, err := decodeHeadSafe(dec)
	if err != nil {
		msg := fmt.Sprintf("delay: failed decoding task payload: %v", err)
		log.Error("delay: undecodable task payload", slog.String("error", err.Error()))
		return outcome{permanent: true, msg: msg}
	}
	log = log.With(slog.String("func_key", inv.Key))
	f := lookup(inv.Key)
	if f == nil {
		msg := fmt.Sprintf("delay: no func with key %q found", inv.Key)
		log.Error("delay: no func with this key (will retry)", slog.String("error", msg))
		return outcome{msg: msg}
	}
	in, err := decodeArgsSafe(f.sig, dec, inv)
	if err != nil {
		msg := fmt.Sprintf("delay: task arguments do not match func %q of type %s: %v", inv.Key, f.sig.ft, err)
		log.Error("delay: task arguments do not match the func", slog.String("error", msg))
		return outcome{permanent: true, msg: msg}
	}
	ctx := context.WithValue(r.Context(), headersKey{}, hdr)
	if h.cfg.Client != nil {
		ctx = taskqueue.WithClient(ctx, h.cfg.Client)
	}
	out, p := call(f.fv, append([]reflect.Value{reflect.ValueOf(ctx)}, in...))
	if p != nil {
		msg := fmt.Sprintf("delay: func panicked: %v", p.value)
		log.Error("delay: func panicked", slog.String("error", fmt.Sprint(p.value)), slog.String("stack", string(p.stack)))
		return outcome{msg: msg}
	}
	err = resultError(f.sig.ft, out)
	switch {
	case err == nil:
		result, err := encodeResult(f.sig.ft, out)
		if err != nil {
			log.Error("delay: result not encodable", slog.String("error", err.Error()))
			return outcome{permanent: true, msg: err.Error()}
		}
		return outcome{result: result}
	case IsPermanent(err):
		log.Error("delay: func failed permanently", slog.String("error", err.Error()))
		return outcome{permanent: true, msg: errorText(err)}
	default:
		log.Error("delay: func failed (will retry)", slog.String("error", err.Error()))
		return outcome{msg: errorText(err)}
	}
}

// errorText is an error's text for a response body, never empty (an empty body would
// read as success to no one, but says nothing).
func errorText(err error) string {
	if s := err.Error(); s != "" {
		return s
	}
	return fmt.Sprintf("delay: func returned an error with no text (%T)", err)
}

// resultError returns the function's error: its last result when that is declared as
// error (a typed nil in it counts as an error, as in App Engine).
func resultError(ft reflect.Type, out []reflect.Value) error {
	n := ft.NumOut()
	if n == 0 || ft.Out(n-1) != errorType {
		return nil
	}
	v := out[n-1]
	if v.IsNil() {
		return nil
	}
	return v.Interface().(error)
}

var errorType = reflect.TypeFor[error]()

type panicked struct {
	value any
	stack []byte
}

// call calls fv, recovering a panic.
func call(fv reflect.Value, in []reflect.Value) (out []reflect.Value, p *panicked) {
	defer func() {
		if v := recover(); v != nil {
			p = &panicked{value: v, stack: debug.Stack()}
		}
	}()
	return fv.Call(in), nil
}

// decodeHeadSafe is decodeHead, turning a panic of the decoder on hostile input into an
// error.
func decodeHeadSafe(dec *gob.Decoder) (inv invocation, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("decoding panicked: %v", v)
		}
	}()
	return decodeHead(dec)
}

// decodeArgsSafe is decodeArgs, turning a panic of the decoder on hostile input into an
// error.
func decodeArgsSafe(s *signature, dec *gob.Decoder, inv invocation) (in []reflect.Value, err error) {
	defer func() {
		if v := recover(); v != nil {
			in, err = nil, fmt.Errorf("decoding panicked: %v", v)
		}
	}()
	return s.decodeArgs(dec, inv)
}

// readBody reads r's body in one buffer of its declared length when it has one (a
// delivery always does) of up to 1 MiB, instead of growing a buffer from 512 bytes. A
// longer one is read as it comes: a claimed length allocates nothing ahead of its bytes.
func readBody(r *http.Request) ([]byte, error) {
	if n := r.ContentLength; n >= 0 && n <= 1<<20 {
		b := make([]byte, n)
		if _, err := io.ReadFull(r.Body, b); err != nil {
			return nil, err
		}
		return b, nil
	}
	return io.ReadAll(r.Body)
}
