package taskqueue_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/redelay/redelay/taskqueue"
)

// TestParseRequestHeaders is App Engine's own table (google.golang.org/appengine/taskqueue).
func TestParseRequestHeaders(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		header http.Header
		want   taskqueue.RequestHeaders
	}{
		{
			header: http.Header{
				"X-Appengine-Queuename":            {"foo"},
				"X-Appengine-Taskname":             {"bar"},
				"X-Appengine-Taskretrycount":       {"4294967297"}, // 2^32 + 1
				"X-Appengine-Taskexecutioncount":   {"4294967298"}, // 2^32 + 2
				"X-Appengine-Tasketa":              {"1500000000"},
				"X-Appengine-Taskpreviousresponse": {"404"},
				"X-Appengine-Taskretryreason":      {"baz"},
				"X-Appengine-Failfast":             {"yes"},
			},
			want: taskqueue.RequestHeaders{
				QueueName:            "foo",
				TaskName:             "bar",
				TaskRetryCount:       4294967297,
				TaskExecutionCount:   4294967298,
				TaskETA:              time.Date(2017, time.July, 14, 2, 40, 0, 0, time.UTC),
				TaskPreviousResponse: 404,
				TaskRetryReason:      "baz",
				FailFast:             true,
			},
		},
		{
			header: http.Header{},
			want:   taskqueue.RequestHeaders{},
		},
		{
			header: http.Header{"X-Appengine-Tasketa": {"1500000000.123456"}},
			want:   taskqueue.RequestHeaders{TaskETA: time.Unix(1500000000, 123456000)},
		},
		{
			header: http.Header{"X-Appengine-Tasketa": {"1500000000.5"}, "X-Appengine-Failfast": {"false"}},
			want:   taskqueue.RequestHeaders{TaskETA: time.Unix(1500000000, 500000000)},
		},
		{
			// Nanoseconds are kept; digits past them are dropped.
			header: http.Header{"X-Appengine-Tasketa": {"1500000000.1234567891"}},
			want:   taskqueue.RequestHeaders{TaskETA: time.Unix(1500000000, 123456789)},
		},
		{
			// Values of the wrong format are ignored.
			header: http.Header{
				"X-Appengine-Tasketa":              {"soon"},
				"X-Appengine-Taskretrycount":       {"many"},
				"X-Appengine-Taskpreviousresponse": {"4o4"},
			},
			want: taskqueue.RequestHeaders{},
		},
		{
			header: http.Header{"X-Appengine-Tasketa": {"1500000000.x"}},
			want:   taskqueue.RequestHeaders{},
		},
	} {
		got := taskqueue.ParseRequestHeaders(tc.header)
		if !got.TaskETA.Equal(tc.want.TaskETA) {
			t.Errorf("%v: TaskETA = %v, want %v", tc.header, got.TaskETA, tc.want.TaskETA)
		}
		got.TaskETA, tc.want.TaskETA = time.Time{}, time.Time{}
		if *got != tc.want {
			t.Errorf("%v:\n got %+v\nwant %+v", tc.header, *got, tc.want)
		}
	}
}

func TestFormatETA(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Unix(1500000000, 123456000), "1500000000.123456"},
		{time.Unix(1500000000, 0), "1500000000.000000"},
		{time.Unix(1500000000, 7000), "1500000000.000007"},
		{time.Unix(1500000000, 999), "1500000000.000000"}, // microseconds, as App Engine
		{time.Unix(-2, 500_000_000), "-1.500000"},
		{time.Unix(0, -1000), "-0.000001"},
		{time.Unix(-86400, 0), "-86400.000000"},
	} {
		got := taskqueue.FormatETA(tc.t)
		if got != tc.want {
			t.Errorf("FormatETA(%v) = %q, want %q", tc.t, got, tc.want)
		}
		h := http.Header{}
		h.Set(taskqueue.HeaderTaskETA, got)
		back := taskqueue.ParseRequestHeaders(h).TaskETA
		if !back.Equal(tc.t.Truncate(time.Microsecond)) {
			t.Errorf("ParseRequestHeaders(FormatETA(%v)) = %v", tc.t, back)
		}
	}
}
