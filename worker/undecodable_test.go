package worker

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redelay/redelay/internal/broker"
	"github.com/redelay/redelay/internal/clientinfo"
)

// TestUndecodableTaskIsDead checks that a task whose stored envelope is damaged is never
// delivered and ends dead at once with the reason, next to a good task that runs.
func TestUndecodableTaskIsDead(t *testing.T) {
	c := newClient(t)
	b := clientinfo.Of(c).Broker
	now := time.Now().UnixMilli()
	good, _ := broker.EncodeEnvelope(&broker.Envelope{Payload: []byte("ok")})
	damaged := []byte("\x81\xa1b\xc4\xff") // a payload of 255 bytes, with none there
	if _, err := b.Enqueue(context.Background(), "default", now, []broker.NewTask{
		{Name: "damaged", Envelope: damaged, Due: now},
		{Name: "good", Envelope: good, Due: now},
	}); err != nil {
		t.Fatal(err)
	}
	h, deliveries := recordingHandler(func(d delivery, w http.ResponseWriter) {})
	start(t, Config{Client: c, Handler: h})
	if d := next(t, deliveries); d.headers.TaskName != "good" {
		t.Fatalf("delivered %q, want only the good task", d.headers.TaskName)
	}
	eventually(t, "damaged task dead", func() bool { return stats(t, c, "default").Dead == 1 })
	dead, err := c.DeadTasks(context.Background(), "default", 0, 10)
	if err != nil || len(dead) != 1 || !strings.Contains(dead[0].Reason, "undecodable task") {
		t.Fatalf("dead tasks = %+v, %v; want the damaged one, undecodable", dead, err)
	}
	select {
	case d := <-deliveries:
		t.Errorf("delivered %q as well", d.headers.TaskName)
	default:
	}
}
