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
