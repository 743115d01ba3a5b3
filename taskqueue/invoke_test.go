package taskqueue

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redelay/redelay/internal/broker"
	"github.com/redelay/redelay/internal/redistest"
)

func backendClient(b redistest.Backend) *Client {
	return NewClient(b.Client, &Config{KeyPrefix: b.Prefix})
}

// finish leases the due push tasks of queue and acks those named, as a worker would.
func finish(t *testing.T, c *Client, queue string, rec *broker.Record, names ...string) {
	t.Helper()
	ctx := context.Background()
	res := c.b.Lease(ctx, c.now().UnixMilli(), []broker.LeaseRequest{{Queue: queue, Limit: 100, LeaseMs: 30_000}})
	if res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var acks []broker.Ack
	for _, l := range res[0].Tasks {
		if want[l.Name] {
			b, err := broker.EncodeRecord(rec)
			if err != nil {
				t.Fatal(err)
			}
			acks = append(acks, broker.Ack{Name: l.Name, Token: l.Token, Record: b})
		}
	}
	if len(acks) != len(names) {
		t.Fatalf("leased %d of %v", len(acks), names)
	}
	if _, err := c.b.Ack(ctx, queue, c.now().UnixMilli(), 3_600_000, c.cfg.ResultTTL.Milliseconds(), acks); err != nil {
		t.Fatal(err)
	}
}

func TestIdempotencyKeyReturnsTheFirstTask(t *testing.T) {
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		c := backendClient(b)
		ctx := context.Background()
		first, err := c.Add(ctx, &Task{IdempotencyKey: "order-17", Payload: []byte("a")}, "")
		if err != nil {
			t.Fatal(err)
		}
		again, err := c.Add(ctx, &Task{IdempotencyKey: "order-17", Payload: []byte("b")}, "")
		if err != nil || again.Name != first.Name {
			t.Fatalf("second Add = %v, %v; want the first task's name %s and no error", again, err, first.Name)
		}
		other, err := c.Add(ctx, &Task{IdempotencyKey: "order-18"}, "")
		if err != nil || other.Name == first.Name {
			t.Fatalf("Add with another key = %v, %v; want a new task", other, err)
		}
		st, err := c.QueueStats(ctx, []string{""})
		if err != nil || st[0].Tasks != 2 {
			t.Fatalf("stats %+v, %v; want 2 tasks", st, err)
		}
		// In one batch too: the repeat maps to the first.
		out, err := c.AddMulti(ctx, []*Task{{IdempotencyKey: "k"}, {IdempotencyKey: "k"}}, "")
		if err != nil || out[0].Name != out[1].Name {
			t.Fatalf("AddMulti with a repeated key: %v, %v; want one name twice", out, err)
		}
	})
}

func TestIdempotencyKeyExpiresAfterTombstoneTTL(t *testing.T) {
	t.Parallel()
	_, rdb := redistest.Miniredis(t)
	now := time.Now()
	c := NewClient(rdb, &Config{TombstoneTTL: time.Minute, Now: func() time.Time { return now }})
	ctx := context.Background()
	first, err := c.Add(ctx, &Task{IdempotencyKey: "x"}, "")
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute + time.Millisecond)
	second, err := c.Add(ctx, &Task{IdempotencyKey: "x"}, "")
	if err != nil || second.Name == first.Name {
		t.Fatalf("Add after the key's lifetime = %v, %v; want a new task", second, err)
	}
}

func TestStatusAndWaitOnEachBackend(t *testing.T) {
	redistest.Each(t, func(t *testing.T, b redistest.Backend) {
		c := backendClient(b)
		ctx := context.Background()
		added, err := c.Add(ctx, &Task{}, "jobs")
		if err != nil {
			t.Fatal(err)
		}
		st, err := c.Status(ctx, "jobs", added.Name)
		if err != nil || st.State != StateWaiting || st.Queue != "jobs" || st.Name != added.Name {
			t.Fatalf("Status = %+v, %v; want waiting", st, err)
		}
		done := make(chan *Status, 1)
		errs := make(chan error, 1)
		go func() {
			st, err := c.Wait(ctx, "jobs", added.Name)
			errs <- err
			done <- st
		}()
		finish(t, c, "jobs", &broker.Record{Status: 200, Result: []byte("ok"), Attempts: 1}, added.Name)
		select {
		case err := <-errs:
			st := <-done
			if err != nil || st.State != StateSucceeded || string(st.Result) != "ok" || st.Code != 200 {
				t.Fatalf("Wait = %+v, %v; want succeeded with result ok", st, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Wait did not return after the task finished")
		}
		// A finished task: Wait returns at once.
		if st, err := c.Wait(ctx, "jobs", added.Name); err != nil || st.State != StateSucceeded {
			t.Fatalf("Wait on a finished task = %+v, %v", st, err)
		}
		if _, err := c.Wait(ctx, "jobs", "unknown"); !errors.Is(err, ErrTaskNotFound) {
			t.Fatalf("Wait on an unknown task = %v, want ErrTaskNotFound", err)
		}
	})
}

func TestWaitDoesNotPoll(t *testing.T) {
	t.Parallel()
	mr, rdb := redistest.Miniredis(t)
	c := NewClient(rdb, nil)
	ctx := context.Background()
	added, err := c.Add(ctx, &Task{}, "")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *Status, 1)
	go func() {
		st, _ := c.Wait(ctx, "", added.Name)
		got <- st
	}()
	// Once Wait has subscribed and read the status, it sends nothing until the task ends.
	channel := c.b.FinishedChannel("default")
	deadline := time.Now().Add(10 * time.Second)
	for len(mr.PubSubNumSub(channel)) == 0 || mr.PubSubNumSub(channel)[channel] == 0 {
		if time.Now().After(deadline) {
			t.Fatal("Wait did not subscribe")
		}
		time.Sleep(time.Millisecond)
	}
	// Let its first status read land, then watch: a polling Wait would keep sending.
	before := mr.CommandCount()
	for {
		time.Sleep(50 * time.Millisecond)
		if n := mr.CommandCount(); n != before {
			before = n
			continue
		}
		break
	}
	time.Sleep(300 * time.Millisecond) // an observation window, not a synchronisation
	if n := mr.CommandCount() - before; n != 0 {
		t.Fatalf("Wait sent %d commands while the task was waiting; want none", n)
	}
	finish(t, c, "default", &broker.Record{Status: 200}, added.Name)
	select {
	case st := <-got:
		if st == nil || st.State != StateSucceeded {
			t.Fatalf("Wait = %+v, want succeeded", st)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait was not woken by the finished task")
	}
}

func TestWaitEndsWithItsContext(t *testing.T) {
	t.Parallel()
	_, rdb := redistest.Miniredis(t)
	c := NewClient(rdb, nil)
	added, err := c.Add(context.Background(), &Task{}, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Wait(ctx, "", added.Name); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait = %v, want the context's error", err)
	}
	if st, err := c.Status(context.Background(), "", added.Name); err != nil || st.State != StateWaiting {
		t.Fatalf("after Wait gave up: %+v, %v; want the task still waiting", st, err)
	}
}

func TestStatusOfADeadTask(t *testing.T) {
	t.Parallel()
	_, rdb := redistest.Miniredis(t)
	c := NewClient(rdb, nil)
	ctx := context.Background()
	added, err := c.Add(ctx, &Task{Method: "PULL", RetryOptions: &RetryOptions{RetryLimit: 1, ApplyZeroRetryLimit: true}}, "pull")
	if err != nil {
		t.Fatal(err)
	}
	leased, err := c.Lease(ctx, 1, "pull", 60)
	if err != nil || len(leased) != 1 {
		t.Fatalf("Lease = %v, %v", leased, err)
	}
	if err := c.ModifyLease(ctx, leased[0], "pull", 0); err != nil {
		t.Fatal(err)
	}
	if again, err := c.Lease(ctx, 1, "pull", 60); err != nil || len(again) != 0 {
		t.Fatalf("second Lease past the retry limit = %v, %v; want nothing", again, err)
	}
	st, err := c.Status(ctx, "pull", added.Name)
	if err != nil || st.State != StateDead || st.Reason == "" || st.Finished.IsZero() {
		t.Fatalf("Status = %+v, %v; want dead with a reason", st, err)
	}
}

func TestStatusOfASucceededTaskExpiresAfterResultTTL(t *testing.T) {
	t.Parallel()
	mr, rdb := redistest.Miniredis(t)
	now := time.Now()
	c := NewClient(rdb, &Config{ResultTTL: 2 * time.Hour, Now: func() time.Time { return now }})
	ctx := context.Background()
	added, err := c.Add(ctx, &Task{}, "")
	if err != nil {
		t.Fatal(err)
	}
	finish(t, c, "default", &broker.Record{Status: 200, Result: []byte("r")}, added.Name)
	now = now.Add(2 * time.Hour) // still within ResultTTL plus the bucket width
	mr.FastForward(2 * time.Hour)
	if st, err := c.Status(ctx, "", added.Name); err != nil || st.State != StateSucceeded || string(st.Result) != "r" {
		t.Fatalf("Status within ResultTTL = %+v, %v; want succeeded with its result", st, err)
	}
	now = now.Add(2 * time.Hour) // past ResultTTL plus one bucket (1 h)
	mr.FastForward(2 * time.Hour)
	if _, err := c.Status(ctx, "", added.Name); !errors.Is(err, ErrTaskNotFound) {
		t.Fatalf("Status after ResultTTL = %v, want ErrTaskNotFound", err)
	}
	for _, k := range mr.Keys() {
		if strings.Contains(k, ":r:") {
			t.Errorf("record hash %s left after its lifetime", k)
		}
	}
}

func TestCloseReleasesTheWaitSubscription(t *testing.T) {
	t.Parallel()
	mr, rdb := redistest.Miniredis(t)
	c := NewClient(rdb, nil)
	ctx := context.Background()
	added, err := c.Add(ctx, &Task{}, "")
	if err != nil {
		t.Fatal(err)
	}
	finish(t, c, "default", &broker.Record{Status: 200}, added.Name)
	if _, err := c.Wait(ctx, "", added.Name); err != nil {
		t.Fatal(err)
	}
	channel := c.b.FinishedChannel("default")
	if n := mr.PubSubNumSub(channel)[channel]; n != 1 {
		t.Fatalf("%d subscriptions while the client is open, want 1", n)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for mr.PubSubNumSub(channel)[channel] != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the subscription outlived Close")
		}
		time.Sleep(time.Millisecond)
	}
	// Wait still works after Close: it subscribes again.
	if st, err := c.Wait(ctx, "", added.Name); err != nil || st.State != StateSucceeded {
		t.Fatalf("Wait after Close = %+v, %v", st, err)
	}
}
