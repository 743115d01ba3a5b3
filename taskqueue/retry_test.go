package taskqueue_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/redelay/redelay/taskqueue"
)

func TestBackoffSchedule(t *testing.T) {
	t.Parallel()
	s := time.Second
	for _, tc := range []struct {
		name  string
		o     *taskqueue.RetryOptions
		waits []time.Duration // before retry 1, 2, …
	}{
		{"Cloud Tasks: 10s to 300s, 3 doublings", &taskqueue.RetryOptions{MinBackoff: 10 * s, MaxBackoff: 300 * s, MaxDoublings: 3},
			[]time.Duration{10 * s, 20 * s, 40 * s, 80 * s, 160 * s, 240 * s, 300 * s, 300 * s}},
		{"zero doublings applied: linear", &taskqueue.RetryOptions{MinBackoff: 10 * s, MaxBackoff: 300 * s, ApplyZeroMaxDoublings: true},
			[]time.Duration{10 * s, 20 * s, 30 * s, 40 * s}},
		{"zero doublings not applied: the default 16", &taskqueue.RetryOptions{MinBackoff: s, MaxBackoff: time.Hour},
			[]time.Duration{s, 2 * s, 4 * s, 8 * s, 16 * s}},
		{"defaults", nil,
			[]time.Duration{taskqueue.DefaultMinBackoff, 2 * taskqueue.DefaultMinBackoff, 4 * taskqueue.DefaultMinBackoff}},
	} {
		for i, want := range tc.waits {
			got, ok := tc.o.Backoff(i+1, 0)
			if !ok || got != want {
				t.Errorf("%s: Backoff(%d) = %v, %v; want %v", tc.name, i+1, got, ok, want)
			}
		}
	}
}

func TestBackoffLimits(t *testing.T) {
	t.Parallel()
	if taskqueue.DefaultRetryLimit != 25 || taskqueue.DefaultMinBackoff != 100*time.Millisecond ||
		taskqueue.DefaultMaxBackoff != time.Hour || taskqueue.DefaultMaxDoublings != 16 {
		t.Error("queue defaults are not MinBackoff 0.1s, MaxBackoff 1h, MaxDoublings 16, RetryLimit 25")
	}
	var none *taskqueue.RetryOptions
	if _, ok := none.Backoff(25, 1000*time.Hour); !ok {
		t.Error("default: retry 25 refused (no age limit by default)")
	}
	if _, ok := none.Backoff(26, 0); ok {
		t.Error("default: retry 26 allowed")
	}
	if w, ok := none.Backoff(25, 0); !ok || w != time.Hour {
		t.Errorf("default: wait before retry 25 = %v, want the 1h cap", w)
	}
	if _, ok := taskqueue.NoRetry().Backoff(1, 0); ok {
		t.Error("NoRetry allows a retry")
	}
	both := &taskqueue.RetryOptions{RetryLimit: 3, AgeLimit: time.Hour}
	for _, tc := range []struct {
		n   int
		age time.Duration
		ok  bool
	}{
		{3, 2 * time.Hour, true},      // retries left
		{4, 59 * time.Minute, true},   // age left
		{4, time.Hour, false},         // both exceeded
		{100, 30 * time.Minute, true}, // age left
		{1, 100 * time.Hour, true},    // retries left
		{10, 100 * time.Hour, false},  // both exceeded
	} {
		if _, ok := both.Backoff(tc.n, tc.age); ok != tc.ok {
			t.Errorf("RetryLimit 3 and AgeLimit 1h: Backoff(%d, %v) ok = %v, want %v", tc.n, tc.age, ok, tc.ok)
		}
	}
	if _, ok := (&taskqueue.RetryOptions{RetryLimit: -1}).Backoff(1, 0); ok {
		t.Error("invalid options allow a retry")
	}
}

// TestRetryOptionsStored checks that a task's retry policy survives Add and Lease.
func TestRetryOptionsStored(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	o := &taskqueue.RetryOptions{RetryLimit: 7, AgeLimit: 90 * time.Minute, MinBackoff: 1500 * time.Millisecond, MaxBackoff: time.Minute, ApplyZeroMaxDoublings: true}
	e.add(&taskqueue.Task{Method: "PULL", RetryOptions: o}, "q")
	got := e.lease(1, "q", 60)
	if len(got) != 1 || !reflect.DeepEqual(got[0].RetryOptions, o) {
		t.Fatalf("leased %+v, want RetryOptions %+v", got[0].RetryOptions, o)
	}
}
