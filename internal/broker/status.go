package broker

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/vmihailenco/msgpack/v5"
)

// Record is what is kept of a task that succeeded, for the result lifetime.
type Record struct {
	Attempts  int32               `msgpack:"a,omitempty"`
	Enqueued  int64               `msgpack:"e,omitempty"` // ms
	Started   int64               `msgpack:"s,omitempty"` // ms, start of the first attempt
	Finished  int64               `msgpack:"f,omitempty"` // ms
	Status    int                 `msgpack:"c,omitempty"` // status code of the successful delivery
	Header    map[string][]string `msgpack:"h,omitempty"` // its response headers
	Result    []byte              `msgpack:"r,omitempty"` // its response body, unless discarded
	LastError string              `msgpack:"z,omitempty"` // of an earlier failed attempt
}

// Where a task is, as Status finds it.
const (
	InTasks = "task" // waiting, scheduled, leased or retrying
	InDone  = "done" // succeeded, record kept
	InDead  = "dead"
)

// TaskStatus is what Status found.
type TaskStatus struct {
	Where      string
	Dispatches int64  // InTasks: deliveries so far
	Envelope   []byte // InTasks and InDead
	LeasedTill int64  // InTasks: lease expiry (ms) while a delivery runs; 0 otherwise
	Record     []byte // InDone
	Died       int64  // InDead (ms)
}

var statusScript = script("status")

// Status finds a task by name in one script call, looking for records of succeeded tasks
// kept for recordMs. Where is "" for an unknown task.
func (b *Broker) Status(ctx context.Context, queue string, now int64, name string, recordMs int64) (*TaskStatus, error) {
	k := b.keys(queue)
	keys := append([]string{k.tasks, k.inflight, k.dead, k.deadIdx}, k.recordKeys(now, recordMs)...)
	vals, err := statusScript.Run(ctx, b.rdb, keys, name, now).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("status of %q: %w", name, err)
	}
	st := &TaskStatus{Where: vals[0]}
	switch st.Where {
	case InTasks:
		d, rest, _ := strings.Cut(vals[1], ";")
		_, env, _ := strings.Cut(rest, ";")
		st.Dispatches, _ = strconv.ParseInt(d, 10, 64)
		st.Envelope = []byte(env)
		if vals[2] != "" {
			f, _ := strconv.ParseFloat(vals[2], 64)
			st.LeasedTill = int64(f)
		}
	case InDone:
		st.Record = []byte(vals[1])
	case InDead:
		st.Envelope = []byte(vals[1])
		f, _ := strconv.ParseFloat(vals[2], 64)
		st.Died = int64(f)
	}
	return st, nil
}

// FinishedChannel is the Pub/Sub channel on which the ack and bury scripts announce the
// tasks of queue that finished (message: names separated by commas).
func (b *Broker) FinishedChannel(queue string) string { return b.keys(queue).finished() }

// EncodeRecord returns r in its stored form.
func EncodeRecord(r *Record) ([]byte, error) {
	return appendRecord(r), nil
}

// DecodeRecord parses a stored record.
func DecodeRecord(b []byte) (*Record, error) {
	var r Record
	if err := msgpack.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decode task record: %w", err)
	}
	return &r, nil
}
