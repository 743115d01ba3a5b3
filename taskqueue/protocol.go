package taskqueue

// The delivery protocol's response signals, the same in-process and over HTTP:
//
//   - any 2xx status: the task is done and removed;
//   - any other status: a failed attempt, retried per the task's RetryOptions, then dead;
//   - a failing status with the header HeaderFailure set to FailurePermanent: dead at once,
//     not retried (delay.Permanent produces it);
//   - 503 with a Retry-After header (seconds): back-pressure; the task is retried after
//     that long without counting as a failed execution.
//
// The first bytes of a failing response's body are kept as the task's last error.
const (
	// HeaderFailure on a failing response qualifies the failure.
	HeaderFailure = "X-Redelay-Failure"
	// FailurePermanent as the HeaderFailure value makes the task dead at once.
	FailurePermanent = "permanent"
)

// HeaderMethodOverride on a push task makes the worker deliver it with that method instead
// of the task's (and removes the header). Add accepts only App Engine's methods; this lets
// the HTTP API pass other methods, such as PATCH, through to a target.
const HeaderMethodOverride = "X-Redelay-Method"

// The headers of a callback request (see Task.CallbackURL).
const (
	HeaderFunctionStatus  = "X-Function-Status"  // status code of the final delivery
	HeaderCallID          = "X-Call-Id"          // the task's name
	HeaderDurationSeconds = "X-Duration-Seconds" // duration of the final delivery
)
