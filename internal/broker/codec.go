package broker

import (
	"encoding/binary"
	"math"
	"sort"
	"strconv"
)

// Hand-written msgpack encoders for the hot path: they write the same maps (keys, omitted
// empty fields) msgpack.Marshal writes for Envelope and Record, without reflection, and
// DecodeEnvelope/DecodeRecord read them back as usual.

// appender writes msgpack values.
type appender []byte

func (a appender) mapLen(n int) appender { return a.containerLen(n, 0x80, 0xde) }

func (a appender) arrayLen(n int) appender { return a.containerLen(n, 0x90, 0xdc) }

// containerLen writes a map's or an array's header: fix|n, or code16 (the 32-bit code
// follows it) and the count.
func (a appender) containerLen(n int, fix, code16 byte) appender {
	switch {
	case n < 16:
		return append(a, fix|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(a, code16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(a, code16+1), uint32(n))
}

func (a appender) str(s string) appender {
	n := len(s)
	switch {
	case n < 32:
		a = append(a, 0xa0|byte(n))
	case n <= math.MaxUint8:
		a = append(a, 0xd9, byte(n))
	case n <= math.MaxUint16:
		a = binary.BigEndian.AppendUint16(append(a, 0xda), uint16(n))
	default:
		a = binary.BigEndian.AppendUint32(append(a, 0xdb), uint32(n))
	}
	return append(a, s...)
}

func (a appender) bin(b []byte) appender {
	n := len(b)
	switch {
	case n <= math.MaxUint8:
		a = append(a, 0xc4, byte(n))
	case n <= math.MaxUint16:
		a = binary.BigEndian.AppendUint16(append(a, 0xc5), uint16(n))
	default:
		a = binary.BigEndian.AppendUint32(append(a, 0xc6), uint32(n))
	}
	return append(a, b...)
}

func (a appender) int(v int64) appender {
	switch {
	case v >= 0 && v <= 127:
		return append(a, byte(v))
	case v >= -32 && v < 0:
		return append(a, byte(v))
	case v >= 0 && v <= math.MaxUint8:
		return append(a, 0xcc, byte(v))
	case v >= 0 && v <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(a, 0xcd), uint16(v))
	case v >= 0 && v <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(a, 0xce), uint32(v))
	case v >= 0:
		return binary.BigEndian.AppendUint64(append(a, 0xcf), uint64(v))
	case v >= math.MinInt8:
		return append(a, 0xd0, byte(v))
	case v >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(a, 0xd1), uint16(v))
	case v >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(a, 0xd2), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(a, 0xd3), uint64(v))
}

func (a appender) header(h map[string][]string) appender {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	a = a.mapLen(len(h))
	for _, k := range keys {
		a = a.str(k).arrayLen(len(h[k]))
		for _, v := range h[k] {
			a = a.str(v)
		}
	}
	return a
}

// fields collects a map's non-empty entries before its length is known. body starts
// with head bytes of room, where done writes the map's header (at most 3 bytes) and what
// goes before it, so an encoding is one allocation.
type fields struct {
	n    int
	body appender
	head int
}

// newFields returns fields whose body has room for size bytes of entries and for before
// bytes ahead of the map's header.
func newFields(before, size int) fields {
	head := before + 3
	return fields{body: make(appender, head, head+size), head: head}
}

func (f *fields) str(key, v string) {
	if v != "" {
		f.n++
		f.body = f.body.str(key).str(v)
	}
}

func (f *fields) bin(key string, v []byte) {
	if len(v) > 0 {
		f.n++
		f.body = f.body.str(key).bin(v)
	}
}

func (f *fields) int(key string, v int64) {
	if v != 0 {
		f.n++
		f.body = f.body.str(key).int(v)
	}
}

func (f *fields) bool(key string, v bool) {
	if v {
		f.n++
		f.body = append(f.body.str(key), 0xc3)
	}
}

func (f *fields) header(key string, v map[string][]string) {
	if len(v) > 0 {
		f.n++
		f.body = f.body.str(key).header(v)
	}
}

// done writes the map's header just before the entries and returns the map.
func (f *fields) done() []byte {
	start := f.head
	if f.n < 16 {
		start--
		f.body[start] = 0x80 | byte(f.n)
	} else { // at most 24 fields: map16
		start -= 3
		f.body[start] = 0xde
		binary.BigEndian.PutUint16(f.body[start+1:], uint16(f.n))
	}
	return f.body[start:]
}

func appendRetry(dst []byte, r *Retry) []byte {
	var body [80]byte // 7 fields of at most 2+9 bytes
	f := fields{body: body[:0]}
	f.int("l", int64(r.Limit))
	f.bool("L", r.ApplyLimit)
	f.int("a", r.AgeLimit)
	f.int("n", r.MinBackoff)
	f.int("x", r.MaxBackoff)
	f.int("d", int64(r.MaxDoublings))
	f.bool("D", r.ApplyDoubl)
	return append(appender(dst).mapLen(f.n), f.body...)
}

func appendEnvelope(e *Envelope) []byte {
	f := newFields(0, envelopeSize(e))
	f.envelope(e)
	return f.done()
}

// envelopeSize is room enough for most envelopes: fixed fields, payload, result.
func envelopeSize(e *Envelope) int { return 64 + len(e.Payload) + len(e.Result) }

// maxStoredPrefix is the longest "<dispatches>;<due>;" that goes before a stored envelope.
const maxStoredPrefix = 2 + 20 + 1

// appendStoredPrefix appends "0;<due>;", what goes before the envelope of a task never
// dispatched.
func appendStoredPrefix(dst []byte, due int64) []byte {
	return append(strconv.AppendInt(append(dst, '0', ';'), due, 10), ';')
}

// EncodeStored returns e's stored form in a task's hash value, "0;<due>;<envelope>", and
// the envelope within it: one allocation for both.
func EncodeStored(e *Envelope, due int64) (stored, envelope []byte) {
	f := newFields(maxStoredPrefix, envelopeSize(e))
	f.envelope(e)
	envelope = f.done()
	var p [maxStoredPrefix]byte
	prefix := appendStoredPrefix(p[:0], due)
	start := len(f.body) - len(envelope) - len(prefix)
	copy(f.body[start:], prefix)
	return f.body[start:], envelope
}

// envelope writes e's non-empty fields.
func (f *fields) envelope(e *Envelope) {
	f.str("p", e.Path)
	f.str("m", e.Method)
	f.header("h", e.Header)
	f.bin("b", e.Payload)
	f.str("g", e.Tag)
	f.bool("l", e.Pull)
	f.bool("n", e.Named)
	f.int("e", e.Enqueued)
	f.int("t", e.ETA)
	if e.Retry != nil {
		f.n++
		f.body = appendRetry(f.body.str("r"), e.Retry)
	}
	f.int("f", e.FirstTry)
	f.int("x", int64(e.Failures))
	f.int("s", int64(e.LastStatus))
	f.str("z", e.LastError)
	f.int("a", int64(e.Attempts))
	f.str("y", e.Reason)
	f.int("k", e.Died)
	f.bool("P", e.Permanent)
	f.bin("R", e.Result)
	f.header("H", e.ResultHeader)
	f.bool("D", e.DiscardResult)
	f.str("u", e.CallbackURL)
	f.str("U", e.Callback)
	f.str("w", e.URL)
}

func appendRecord(r *Record) []byte {
	f := newFields(0, 48+len(r.Result))
	f.int("a", int64(r.Attempts))
	f.int("e", r.Enqueued)
	f.int("s", r.Started)
	f.int("f", r.Finished)
	f.int("c", int64(r.Status))
	f.header("h", r.Header)
	f.bin("r", r.Result)
	f.str("z", r.LastError)
	return f.done()
}
