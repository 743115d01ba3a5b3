package broker

import (
	"fmt"

	"github.com/vmihailenco/msgpack/v5"
)

// Envelope is a task as stored in Redis, msgpack-encoded with one-letter keys to keep
// the memory per waiting task small. Lua never looks inside it.
type Envelope struct {
	Path     string              `msgpack:"p,omitempty"`
	Method   string              `msgpack:"m,omitempty"` // "" means POST
	Header   map[string][]string `msgpack:"h,omitempty"`
	Payload  []byte              `msgpack:"b,omitempty"`
	Tag      string              `msgpack:"g,omitempty"`
	Pull     bool                `msgpack:"l,omitempty"`
	Named    bool                `msgpack:"n,omitempty"` // the caller chose the name: keep a tombstone when it ends
	Enqueued int64               `msgpack:"e,omitempty"` // ms
	ETA      int64               `msgpack:"t,omitempty"` // ms, when the current attempt was due
	Retry    *Retry              `msgpack:"r,omitempty"`

	// Delivery history, written by the worker.
	FirstTry   int64  `msgpack:"f,omitempty"` // ms, start of the first attempt
	Failures   int32  `msgpack:"x,omitempty"` // attempts that got a response and failed
	LastStatus int    `msgpack:"s,omitempty"` // status code of the last attempt
	LastError  string `msgpack:"z,omitempty"` // error text of the last failed attempt
	Attempts   int32  `msgpack:"a,omitempty"` // deliveries made, kept when the task dies
	Reason     string `msgpack:"y,omitempty"` // why the task is dead
	Died       int64  `msgpack:"k,omitempty"` // ms
}

// Retry is a task's retry policy; zero fields mean the queue default unless their Apply
// flag is set.
type Retry struct {
	Limit        int32 `msgpack:"l,omitempty"`
	ApplyLimit   bool  `msgpack:"L,omitempty"`
	AgeLimit     int64 `msgpack:"a,omitempty"` // ms
	MinBackoff   int64 `msgpack:"n,omitempty"` // ms
	MaxBackoff   int64 `msgpack:"x,omitempty"` // ms
	MaxDoublings int32 `msgpack:"d,omitempty"`
	ApplyDoubl   bool  `msgpack:"D,omitempty"`
}

// EncodeEnvelope returns e in its stored form.
func EncodeEnvelope(e *Envelope) ([]byte, error) {
	b, err := msgpack.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode task envelope: %w", err)
	}
	return b, nil
}

// DecodeEnvelope parses a stored envelope.
func DecodeEnvelope(b []byte) (*Envelope, error) {
	var e Envelope
	if err := msgpack.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("decode task envelope: %w", err)
	}
	return &e, nil
}
