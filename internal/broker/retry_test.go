package broker

import (
	"testing"
	"time"
)

func TestRetryNextSchedule(t *testing.T) {
	t.Parallel()
	s := time.Second
	for _, tc := range []struct {
		name  string
		r     *Retry
		waits []time.Duration // for retries 0, 1, 2, …
	}{
		{
			name:  "Cloud Tasks example: 10s..300s, 3 doublings",
			r:     &Retry{MinBackoff: 10_000, MaxBackoff: 300_000, MaxDoublings: 3},
			waits: []time.Duration{10 * s, 20 * s, 40 * s, 80 * s, 160 * s, 240 * s, 300 * s, 300 * s, 300 * s},
		},
		{
			name:  "zero doublings applied: linear",
			r:     &Retry{MinBackoff: 10_000, MaxBackoff: 300_000, ApplyDoubl: true},
			waits: []time.Duration{10 * s, 20 * s, 30 * s, 40 * s, 50 * s},
		},
		{
			name:  "one doubling",
			r:     &Retry{MinBackoff: 1000, MaxBackoff: 10_000, MaxDoublings: 1},
			waits: []time.Duration{s, 2 * s, 4 * s, 6 * s, 8 * s, 10 * s, 10 * s},
		},
		{
			name:  "min equals max",
			r:     &Retry{MinBackoff: 5000, MaxBackoff: 5000},
			waits: []time.Duration{5 * s, 5 * s, 5 * s},
		},
		{
			name:  "defaults: 0.1s doubling 16 times, capped at 1h",
			r:     nil,
			waits: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond},
		},
	} {
		for i, want := range tc.waits {
			got, ok := tc.r.Next(i, 0)
			if !ok || got != want {
				t.Errorf("%s: Next(%d) = %v, %v; want %v, true", tc.name, i, got, ok, want)
			}
		}
	}
}

func TestRetryNextDefaults(t *testing.T) {
	t.Parallel()
	var r *Retry
	if w, _ := r.Next(15, 0); w != 3276800*time.Millisecond {
		t.Errorf("default wait before retry 16 = %v, want 0.1s*2^15", w)
	}
	if w, _ := r.Next(16, 0); w != time.Hour {
		t.Errorf("default wait before retry 17 = %v, want the 1h cap", w)
	}
	for _, r := range []*Retry{nil, {}} {
		if _, ok := r.Next(DefaultRetryLimit-1, 1000*time.Hour); !ok {
			t.Errorf("%v: retry %d refused; the default limit is %d retries, no age limit", r, DefaultRetryLimit, DefaultRetryLimit)
		}
		if _, ok := r.Next(DefaultRetryLimit, 0); ok {
			t.Errorf("%v: retry %d allowed past the default limit", r, DefaultRetryLimit+1)
		}
	}
	// A huge retry count neither overflows nor goes past the cap.
	if w, ok := (&Retry{Limit: 1 << 30}).Next(1<<29, 0); !ok || w != time.Hour {
		t.Errorf("Next(1<<29) = %v, %v", w, ok)
	}
}

func TestRetryNextLimits(t *testing.T) {
	t.Parallel()
	const minute = 60_000
	for _, tc := range []struct {
		name    string
		r       *Retry
		retries int
		age     time.Duration
		ok      bool
	}{
		{"under the retry limit", &Retry{Limit: 3}, 2, 0, true},
		{"at the retry limit", &Retry{Limit: 3}, 3, 0, false},
		{"zero limit applied: never retry", &Retry{ApplyLimit: true}, 0, 0, false},
		{"zero limit not applied: the default", &Retry{}, 0, 0, true},
		{"both: retries exceeded, age not", &Retry{Limit: 3, AgeLimit: minute}, 5, 30 * time.Second, true},
		{"both: age exceeded, retries not", &Retry{Limit: 3, AgeLimit: minute}, 2, time.Hour, true},
		{"both exceeded", &Retry{Limit: 3, AgeLimit: minute}, 3, time.Minute, false},
		{"age limit alone goes with the default retry limit", &Retry{AgeLimit: minute}, DefaultRetryLimit - 1, time.Hour, true},
		{"age limit and default retry limit exceeded", &Retry{AgeLimit: minute}, DefaultRetryLimit, time.Hour, false},
		{"age limit with zero retries applied", &Retry{ApplyLimit: true, AgeLimit: minute}, 7, 59 * time.Second, true},
		{"age limit with zero retries applied, too old", &Retry{ApplyLimit: true, AgeLimit: minute}, 0, time.Minute, false},
	} {
		if _, ok := tc.r.Next(tc.retries, tc.age); ok != tc.ok {
			t.Errorf("%s: Next(%d, %v) ok = %v, want %v", tc.name, tc.retries, tc.age, ok, tc.ok)
		}
	}
}
