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

var errDamaged = errors.New("length header past the end of the data")

// checkLengths walks one msgpack value in b without decoding it and fails unless every
// length and count it declares fits in the bytes that follow.
func checkLengths(b []byte) error {
	pending := uint64(1) // values still to read; each takes at least one byte
	i := 0
	for pending > 0 {
		if pending > uint64(len(b)-i) {
			return errDamaged
		}
		c := b[i]
		i++
		pending--
		var size, count int // size: a length field's width; count: items of a container
		skip := 0           // bytes of fixed-width data that follow
		switch {
		case c <= 0x7f || c >= 0xe0: // fixint
		case c <= 0x8f: // fixmap
			pending += 2 * uint64(c&0x0f)
		case c <= 0x9f: // fixarray
			pending += uint64(c & 0x0f)
		case c <= 0xbf: // fixstr
			skip = int(c & 0x1f)
		case c == 0xc0, c == 0xc2, c == 0xc3: // nil, false, true
		case c == 0xc1:
			return errors.New("reserved code 0xc1")
		case c == 0xc4, c == 0xd9: // bin8, str8
			size = 1
		case c == 0xc5, c == 0xda: // bin16, str16
			size = 2
		case c == 0xc6, c == 0xdb: // bin32, str32
			size = 4
		case c >= 0xc7 && c <= 0xc9: // ext8, ext16, ext32: length, then a type byte
			size = 1 << (c - 0xc7)
			skip = 1
		case c == 0xca, c == 0xce, c == 0xd2: // float32, uint32, int32
			skip = 4
		case c == 0xcb, c == 0xcf, c == 0xd3: // float64, uint64, int64
			skip = 8
		case c == 0xcc, c == 0xd0: // uint8, int8
			skip = 1
		case c == 0xcd, c == 0xd1: // uint16, int16
			skip = 2
		case c >= 0xd4 && c <= 0xd8: // fixext 1, 2, 4, 8, 16: a type byte, then data
			skip = 1 + 1<<(c-0xd4)
		case c == 0xdc, c == 0xde: // array16, map16
			size, count = 2, 1
		case c == 0xdd, c == 0xdf: // array32, map32
			size, count = 4, 1
		}
		if size > 0 {
			if len(b)-i < size {
				return errDamaged
			}
			var n uint64
			for _, x := range b[i : i+size] {
				n = n<<8 | uint64(x)
			}
			i += size
			switch {
			case count == 0:
				if n > uint64(len(b)-i) {
					return errDamaged
				}
				skip += int(n)
			case c == 0xde || c == 0xdf:
				pending += 2 * n
			default:
				pending += n
			}
		}
		if skip > len(b)-i {
			return errDamaged
		}
		i += skip
	}
	return nil
}
