package broker

import (
	"errors"
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
	Permanent  bool   `msgpack:"P,omitempty"` // died of a permanent failure

	// The final failing response of a dead task (for callers waiting on its result).
	Result       []byte              `msgpack:"R,omitempty"`
	ResultHeader map[string][]string `msgpack:"H,omitempty"`

	// Invocation options.
	DiscardResult bool   `msgpack:"D,omitempty"` // keep no response body once done
	CallbackURL   string `msgpack:"u,omitempty"` // POST the outcome here when done
	Callback      string `msgpack:"U,omitempty"` // this task is the callback of that task
	URL           string `msgpack:"w,omitempty"` // absolute URL to deliver to, instead of Target+Path
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
	return appendEnvelope(e), nil
}

// DecodeEnvelope parses a stored envelope. A damaged one is an error, never a huge
// allocation: msgpack allocates a string's declared length before reading it, and its
// pooled decoders keep a buffer grown for a length that was not there, so the length
// headers are checked against the input first.
//
// The hand-written decodeEnvelope reads what appendEnvelope and msgpack.Marshal write;
// for anything else it gives up and msgpack.Unmarshal decides, so the result is always
// msgpack.Unmarshal's. The envelope never aliases b.
func DecodeEnvelope(b []byte) (*Envelope, error) {
	e := new(Envelope)
	if err := DecodeEnvelopeInto(b, e); err != nil {
		return nil, err
	}
	return e, nil
}

// DecodeEnvelopeInto is DecodeEnvelope into *dst, which it overwrites whole (so a caller
// may reuse one Envelope for many tasks). On an error *dst is unspecified.
func DecodeEnvelopeInto(b []byte, dst *Envelope) error {
	if err := checkLengths(b); err != nil {
		return fmt.Errorf("decode task envelope: %w", err)
	}
	if decodeEnvelope(b, dst) {
		return nil
	}
	*dst = Envelope{}
	if err := msgpack.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("decode task envelope: %w", err)
	}
	return nil
}

var errDamaged = errors.New("damaged: a length past the end of the data, or a reserved code")

// checkLengths walks one msgpack value in b without decoding it and fails unless every
// length and count it declares fits in the bytes that follow.
func checkLengths(b []byte) error {
	r := reader{b: b}
	r.skip()
	if r.failed {
		return errDamaged
	}
	return nil
}
