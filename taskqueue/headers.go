package taskqueue

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The App Engine task headers every delivery carries.
const (
	HeaderQueueName            = "X-AppEngine-QueueName"
	HeaderTaskName             = "X-AppEngine-TaskName"
	HeaderTaskRetryCount       = "X-AppEngine-TaskRetryCount"
	HeaderTaskExecutionCount   = "X-AppEngine-TaskExecutionCount"
	HeaderTaskETA              = "X-AppEngine-TaskETA"
	HeaderTaskPreviousResponse = "X-AppEngine-TaskPreviousResponse"
	HeaderTaskRetryReason      = "X-AppEngine-TaskRetryReason"
	HeaderFailFast             = "X-AppEngine-FailFast"
)

// RequestHeaders are the task headers of a delivery.
type RequestHeaders struct {
	QueueName string
	TaskName  string
	// TaskRetryCount is how many times the task was delivered before, for any reason.
	TaskRetryCount int64
	// TaskExecutionCount is how many earlier deliveries got a failing response.
	TaskExecutionCount int64
	// TaskETA is when the task was due, to the microsecond.
	TaskETA time.Time
	// TaskPreviousResponse is the status code of the previous delivery (0 on the first).
	TaskPreviousResponse int
	TaskRetryReason      string
	FailFast             bool
}

// ParseRequestHeaders reads the task headers of a delivery. Values of the wrong format
// are ignored. TaskETA accepts fractional seconds ("1500000000.123456").
func ParseRequestHeaders(h http.Header) *RequestHeaders {
	ret := &RequestHeaders{
		QueueName:       h.Get(HeaderQueueName),
		TaskName:        h.Get(HeaderTaskName),
		TaskRetryReason: h.Get(HeaderTaskRetryReason),
	}
	ret.TaskRetryCount, _ = strconv.ParseInt(h.Get(HeaderTaskRetryCount), 10, 64)
	ret.TaskExecutionCount, _ = strconv.ParseInt(h.Get(HeaderTaskExecutionCount), 10, 64)
	ret.TaskETA = parseETA(h.Get(HeaderTaskETA))
	ret.TaskPreviousResponse, _ = strconv.Atoi(h.Get(HeaderTaskPreviousResponse))
	switch strings.ToLower(strings.TrimSpace(h.Get(HeaderFailFast))) {
	case "", "0", "false", "no":
	default:
		ret.FailFast = true
	}
	return ret
}

// parseETA reads unix seconds with an optional fraction of up to nanoseconds, without
// going through a float (which would lose microseconds).
func parseETA(s string) time.Time {
	neg := strings.HasPrefix(s, "-")
	whole, frac, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	secs, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || secs < 0 || (secs == 0 && frac == "") {
		return time.Time{}
	}
	var nanos int64
	if frac != "" {
		if len(frac) > 9 {
			frac = frac[:9]
		}
		n, err := strconv.ParseInt(frac, 10, 64)
		if err != nil || n < 0 {
			return time.Time{}
		}
		for i := len(frac); i < 9; i++ {
			n *= 10
		}
		nanos = n
	}
	if neg {
		return time.Unix(-secs, -nanos)
	}
	return time.Unix(secs, nanos)
}

// FormatETA writes t as App Engine does: unix seconds with a six-digit fraction.
func FormatETA(t time.Time) string {
	us := t.UnixMicro()
	var buf [32]byte
	b := buf[:0]
	if us < 0 { // before 1970: "-<seconds>.<fraction>" of the distance to it
		b = append(b, '-')
		us = -us
	}
	b = strconv.AppendInt(b, us/1e6, 10)
	frac := us % 1e6
	b = append(b, '.', '0', '0', '0', '0', '0', '0')
	for i := len(b) - 1; frac > 0; i-- {
		b[i] = byte('0' + frac%10)
		frac /= 10
	}
	return string(b)
}
