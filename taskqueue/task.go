package taskqueue

import (
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/redelay/redelay/internal/broker"
)

// Task is a unit of work: an HTTP request to deliver later (a push task), or a payload for
// a consumer to lease (a pull task, Method "PULL").
type Task struct {
	// Path is the URL path the delivery requests. "" means "/_ah/queue/<queue>".
	Path string
	// Payload is the request body. It is delivered with POST and PUT and leased with PULL;
	// GET, HEAD and DELETE requests carry no body, so Add does not store it for them.
	Payload []byte
	// Header holds extra request headers for the delivery.
	Header http.Header
	// Method is the delivery's HTTP method: GET, POST, HEAD, PUT or DELETE, or "PULL" for a
	// pull task. "" means POST. It is case-sensitive.
	Method string
	// Name identifies the task in its queue. "" means a generated unique, time-sortable
	// name. A name chosen by the caller stays taken while the task exists and for
	// Config.TombstoneTTL after it ends or is deleted.
	Name string
	// Delay postpones the task by this much from the time it is added. Set Delay or ETA,
	// not both.
	Delay time.Duration
	// ETA is the earliest time the task runs (push) or can be leased (pull), to the
	// millisecond. Zero means now plus Delay. After Lease it is the lease expiry.
	ETA time.Time
	// RetryCount is output only: the times the task has been dispatched or leased.
	RetryCount int32
	// Tag labels a pull task for LeaseByTag.
	Tag string
	// RetryOptions is the task's retry policy; nil means the queue defaults.
	RetryOptions *RetryOptions

	// IdempotencyKey makes Add idempotent: a second Add with the same key in the same queue,
	// until Config.TombstoneTTL after the first task's ETA, returns the first task (same
	// Name) and a nil error, and enqueues nothing. Unlike Name, a repeat is not an error.
	IdempotencyKey string
	// CallbackURL, an absolute http(s) URL, receives the task's outcome when it succeeds or
	// dies: a signed POST of the final response's body, with X-Function-Status (its status
	// code), X-Call-Id (the task's name), X-Duration-Seconds and its headers, retried with
	// backoff until the callback answers 2xx.
	CallbackURL string
	// DiscardResult keeps no response body once the task is done: Status reports the state
	// and times only.
	DiscardResult bool
}

// Methods a push task may use, and the one of pull tasks.
const (
	methodPull = "PULL"
	// DefaultMaxPayloadBytes is Config.MaxPayloadBytes when left zero.
	DefaultMaxPayloadBytes = 1 << 20
	maxTagLen              = 500
	maxIdempotencyKeyLen   = 1000
)

var (
	queueNameRE = regexp.MustCompile(`^[a-zA-Z0-9-]{1,100}$`)
	taskNameRE  = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,500}$`)
)

// NewPOSTTask returns a task that POSTs the form-encoded params to path.
func NewPOSTTask(path string, params url.Values) *Task {
	return &Task{
		Path:    path,
		Payload: []byte(params.Encode()),
		Header:  http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		Method:  "POST",
	}
}

func queueName(queue string) (string, error) {
	if queue == "" {
		return "default", nil
	}
	if !queueNameRE.MatchString(queue) {
		return "", invalid("queue", "%q does not match %s", clip(queue), queueNameRE)
	}
	return queue, nil
}

func checkTaskName(name string) error {
	if !taskNameRE.MatchString(name) {
		return invalid("Name", "%q does not match %s", clip(name), taskNameRE)
	}
	return nil
}

// clip shortens a bad value quoted in an error message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:61] + "..."
	}
	return s
}

func hasBody(method string) bool {
	return method == "POST" || method == "PUT" || method == methodPull
}

// prepared is a validated task ready for the broker.
type prepared struct {
	out  *Task
	task broker.NewTask
}

// prepare validates t for queue and returns the copy Add hands back (Method, Name, Path and
// ETA filled in) with its stored form. It writes nothing.
func (c *Client) prepare(t *Task, queue string, now time.Time) (prepared, error) {
	if t == nil {
		return prepared{}, invalid("task", "nil task")
	}
	out := *t
	if out.Method == "" {
		out.Method = "POST"
	}
	switch out.Method {
	case "GET", "POST", "HEAD", "PUT", "DELETE", methodPull:
	default:
		return prepared{}, &badMethodError{t.Method}
	}
	if !out.ETA.IsZero() && out.Delay != 0 {
		return prepared{}, invalid("ETA", "both Delay and ETA are set")
	}
	if out.Delay < 0 {
		return prepared{}, invalid("Delay", "negative delay %s", out.Delay)
	}
	named := out.Name != ""
	if named {
		if err := checkTaskName(out.Name); err != nil {
			return prepared{}, err
		}
	} else {
		out.Name = newName(now)
	}
	if len(out.Payload) > c.cfg.MaxPayloadBytes {
		return prepared{}, invalid("Payload", "%d bytes is over the limit of %d", len(out.Payload), c.cfg.MaxPayloadBytes)
	}
	pull := out.Method == methodPull
	if out.Tag != "" && !pull {
		return prepared{}, invalid("Tag", "only pull tasks (Method \"PULL\") have tags")
	}
	if len(out.Tag) > maxTagLen {
		return prepared{}, invalid("Tag", "%d bytes is over the limit of %d", len(out.Tag), maxTagLen)
	}
	if len(out.IdempotencyKey) > maxIdempotencyKeyLen {
		return prepared{}, invalid("IdempotencyKey", "%d bytes is over the limit of %d", len(out.IdempotencyKey), maxIdempotencyKeyLen)
	}
	if out.CallbackURL != "" {
		if u, err := url.Parse(out.CallbackURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return prepared{}, invalid("CallbackURL", "%q is not an absolute http(s) URL", clip(out.CallbackURL))
		}
	}
	retry, err := out.RetryOptions.toBroker()
	if err != nil {
		return prepared{}, err
	}
	if out.ETA.IsZero() {
		out.ETA = now.Add(out.Delay)
	}
	out.ETA = out.ETA.Truncate(time.Millisecond)
	out.Delay = 0
	if !pull && out.Path == "" {
		out.Path = "/_ah/queue/" + queue
	}
	if !hasBody(out.Method) {
		out.Payload = nil
	}
	env := broker.Envelope{
		Header:   out.Header,
		Payload:  out.Payload,
		Tag:      out.Tag,
		Pull:     pull,
		Named:    named,
		Enqueued: now.UnixMilli(),
		ETA:      out.ETA.UnixMilli(),
		Retry:    retry,

		DiscardResult: out.DiscardResult,
		CallbackURL:   out.CallbackURL,
	}
	if !pull {
		if out.Path != "/_ah/queue/"+queue {
			env.Path = out.Path
		}
		if out.Method != "POST" {
			env.Method = out.Method
		}
	}
	stored, b := broker.EncodeStored(&env, env.ETA)
	return prepared{
		out: &out,
		task: broker.NewTask{
			Name: out.Name, Envelope: b, Stored: stored, Due: env.ETA, Pull: pull, Tag: out.Tag, Named: named,
			IdempotencyKey: out.IdempotencyKey, KeyUntil: env.ETA + c.cfg.TombstoneTTL.Milliseconds(),
		},
	}, nil
}
