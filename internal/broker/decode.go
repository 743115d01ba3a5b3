package broker

import "encoding/binary"

// The hand-written msgpack decoder for the hot path, the mirror of appendEnvelope: it
// reads Envelope and Retry without reflection and gives what msgpack.Unmarshal gives.
//
// It accepts every form msgpack.Marshal writes for these fields, as envelopes stored by
// older versions were written by it: strings as fixstr/str8/16/32 or bin, []byte as
// bin8/16/32 or str, nil for any field, integers of any int/uint width, maps and arrays
// of any width, unknown keys (skipped) and repeated keys (decoded as msgpack does: the
// last value wins, while maps and a Retry take the entries of both). Anything else
// where a field's value is due (a float for an integer, an extension type, a struct
// written as an array) makes it give up, and DecodeEnvelope falls back to
// msgpack.Unmarshal, which then decodes or rejects the input.

// reader reads msgpack values from a byte slice. At the first thing it does not handle
// (a type it does not decode there, bytes missing) it sets failed and moves to the end
// of the input, so every later read fails too and returns a zero value: a decoder reads
// on and checks failed once at the end.
type reader struct {
	b      []byte // the input
	i      int    // where the next value starts
	failed bool   // the input is not handled: a form not decoded here, or bytes missing
}

// fail marks the input as not handled and stops reading it.
func (r *reader) fail() {
	r.failed = true
	r.i = len(r.b)
}

// code reads a value's first byte, its type code; past the end it fails and returns
// 0xc1, the reserved code no reader accepts.
func (r *reader) code() byte {
	if r.i >= len(r.b) {
		r.fail()
		return 0xc1
	}
	c := r.b[r.i]
	r.i++
	return c
}

// uint reads an n-byte big-endian unsigned integer; n is 1, 2, 4 or 8.
func (r *reader) uint(n int) uint64 {
	if len(r.b)-r.i < n {
		r.fail()
		return 0
	}
	p := r.b[r.i : r.i+n]
	r.i += n
	switch n {
	case 1:
		return uint64(p[0])
	case 2:
		return uint64(binary.BigEndian.Uint16(p))
	case 4:
		return uint64(binary.BigEndian.Uint32(p))
	}
	return binary.BigEndian.Uint64(p)
}

// bytes returns the next n bytes of the input: not a copy.
func (r *reader) bytes(n uint64) []byte {
	if n > uint64(len(r.b)-r.i) {
		r.fail()
		return nil
	}
	end := r.i + int(n)
	p := r.b[r.i:end:end]
	r.i = end
	return p
}

// count checks a container's declared count of values against the bytes left (each
// value takes at least one), so nothing is ever allocated for items that are not there.
func (r *reader) count(n uint64) int {
	if n > uint64(len(r.b)-r.i) {
		r.fail()
		return 0
	}
	return int(n)
}

// mapLen reads a map header and returns its number of entries, or -1 for nil.
func (r *reader) mapLen() int {
	c := r.code()
	switch {
	case c >= 0x80 && c <= 0x8f: // fixmap
		return r.count(2*uint64(c&0x0f)) / 2
	case c == 0xde: // map16
		return r.count(2*r.uint(2)) / 2
	case c == 0xdf: // map32
		return r.count(2*r.uint(4)) / 2
	case c == 0xc0:
		return -1
	}
	r.fail()
	return 0
}

// arrayLen reads an array header and returns its number of items, or -1 for nil.
func (r *reader) arrayLen() int {
	c := r.code()
	switch {
	case c >= 0x90 && c <= 0x9f: // fixarray
		return r.count(uint64(c & 0x0f))
	case c == 0xdc: // array16
		return r.count(r.uint(2))
	case c == 0xdd: // array32
		return r.count(r.uint(4))
	case c == 0xc0:
		return -1
	}
	r.fail()
	return 0
}

// raw reads a str or bin value, either of which msgpack decodes into a string or a
// []byte, and returns its bytes (not a copy); isNil reports a nil instead.
func (r *reader) raw() (p []byte, isNil bool) {
	c := r.code()
	var n uint64
	switch {
	case c >= 0xa0 && c <= 0xbf: // fixstr
		n = uint64(c & 0x1f)
	case c == 0xd9 || c == 0xc4: // str8, bin8
		n = r.uint(1)
	case c == 0xda || c == 0xc5: // str16, bin16
		n = r.uint(2)
	case c == 0xdb || c == 0xc6: // str32, bin32
		n = r.uint(4)
	case c == 0xc0:
		return nil, true
	default:
		r.fail()
		return nil, false
	}
	return r.bytes(n), false
}

// str reads a string; nil reads as "".
func (r *reader) str() string {
	p, _ := r.raw()
	return string(p)
}

// bin reads a []byte into a new slice, never aliasing the input: nil reads as nil and
// an empty value as an empty non-nil slice, as msgpack.Unmarshal gives.
func (r *reader) bin() []byte {
	p, isNil := r.raw()
	if isNil || r.failed {
		return nil
	}
	b := make([]byte, len(p))
	copy(b, p)
	return b
}

// int reads an integer of any msgpack int or uint width; nil reads as 0 and a uint64
// above MaxInt64 wraps, as msgpack.Unmarshal has it. The caller converts to narrower
// types the way reflect's SetInt does, by truncating.
func (r *reader) int() int64 {
	c := r.code()
	switch {
	case c <= 0x7f || c >= 0xe0: // positive and negative fixint
		return int64(int8(c))
	case c == 0xcc, c == 0xcd, c == 0xce, c == 0xcf: // uint8, 16, 32, 64
		return int64(r.uint(1 << (c - 0xcc)))
	case c == 0xd0:
		return int64(int8(r.uint(1)))
	case c == 0xd1:
		return int64(int16(r.uint(2)))
	case c == 0xd2:
		return int64(int32(r.uint(4)))
	case c == 0xd3:
		return int64(r.uint(8))
	case c == 0xc0:
		return 0
	}
	r.fail()
	return 0
}

// bool reads true or false; nil reads as false.
func (r *reader) bool() bool {
	switch r.code() {
	case 0xc3:
		return true
	case 0xc2, 0xc0:
		return false
	}
	r.fail()
	return false
}

// skipNil reads a nil if one comes next and reports whether it did.
func (r *reader) skipNil() bool {
	if r.i < len(r.b) && r.b[r.i] == 0xc0 {
		r.i++
		return true
	}
	return false
}

// header reads a map[string][]string as msgpack.Unmarshal does into m: nil gives nil,
// a map adds its entries to m (made if nil, so an empty map gives an empty non-nil
// map), and a nil array of values gives a nil slice.
func (r *reader) header(m map[string][]string) map[string][]string {
	n := r.mapLen()
	if n < 0 {
		return nil
	}
	if m == nil {
		m = make(map[string][]string, n)
	}
	for ; n > 0 && !r.failed; n-- {
		k := r.str()
		var vs []string
		if c := r.arrayLen(); c >= 0 {
			vs = make([]string, c)
			for j := range vs {
				vs[j] = r.str()
			}
		}
		m[k] = vs
	}
	return m
}

// skip reads past one value of any type, the containers it holds included.
func (r *reader) skip() {
	for pending := uint64(1); pending > 0 && !r.failed; pending-- {
		if pending > uint64(len(r.b)-r.i) { // each value takes at least one byte
			r.fail()
			return
		}
		c := r.code()
		switch {
		case c <= 0x7f || c >= 0xe0: // fixint
		case c <= 0x8f: // fixmap
			pending += 2 * uint64(c&0x0f)
		case c <= 0x9f: // fixarray
			pending += uint64(c & 0x0f)
		case c <= 0xbf: // fixstr
			r.bytes(uint64(c & 0x1f))
		case c == 0xc0, c == 0xc2, c == 0xc3: // nil, false, true
		case c == 0xc4, c == 0xd9: // bin8, str8
			r.bytes(r.uint(1))
		case c == 0xc5, c == 0xda: // bin16, str16
			r.bytes(r.uint(2))
		case c == 0xc6, c == 0xdb: // bin32, str32
			r.bytes(r.uint(4))
		case c >= 0xc7 && c <= 0xc9: // ext8, ext16, ext32: length, then a type byte
			r.bytes(r.uint(1<<(c-0xc7)) + 1)
		case c == 0xca, c == 0xce, c == 0xd2: // float32, uint32, int32
			r.bytes(4)
		case c == 0xcb, c == 0xcf, c == 0xd3: // float64, uint64, int64
			r.bytes(8)
		case c == 0xcc, c == 0xd0: // uint8, int8
			r.bytes(1)
		case c == 0xcd, c == 0xd1: // uint16, int16
			r.bytes(2)
		case c >= 0xd4 && c <= 0xd8: // fixext 1, 2, 4, 8, 16: a type byte, then data
			r.bytes(1 + 1<<(c-0xd4))
		case c == 0xdc: // array16
			pending += r.uint(2)
		case c == 0xdd: // array32
			pending += r.uint(4)
		case c == 0xde: // map16
			pending += 2 * r.uint(2)
		case c == 0xdf: // map32
			pending += 2 * r.uint(4)
		default: // 0xc1, reserved
			r.fail()
		}
	}
}

// key reads a map key naming a struct field and returns it if it is one byte long, as
// every Envelope and Retry key is, or 0 for any other (nil reads as "", as for
// msgpack.Unmarshal), which the caller skips as an unknown field.
func (r *reader) key() byte {
	p, _ := r.raw()
	if len(p) != 1 {
		return 0
	}
	return p[0]
}

// decodeEnvelope decodes b into *dst, or reports that it cannot and msgpack.Unmarshal
// must, leaving *dst as it was. It decodes into a local Envelope and writes *dst at the
// end, when it has succeeded.
//
// Payload and Result are copied out of b, not slices of it: DecodeEnvelope is called
// from several packages (worker, taskqueue) with slices that come from Redis replies,
// and the envelope outlives the call, so aliasing b would tie each envelope to its
// caller's buffer and break if a caller ever reused one. The copy is one allocation.
func decodeEnvelope(b []byte, dst *Envelope) bool {
	var (
		e        Envelope
		retry    Retry
		hasRetry bool
	)
	r := reader{b: b}
	n := r.mapLen() // a nil envelope is the zero Envelope, as for msgpack.Unmarshal
	for ; n > 0 && !r.failed; n-- {
		switch r.key() {
		case 'p':
			e.Path = r.str()
		case 'm':
			e.Method = r.str()
		case 'h':
			e.Header = r.header(e.Header)
		case 'b':
			e.Payload = r.bin()
		case 'g':
			e.Tag = r.str()
		case 'l':
			e.Pull = r.bool()
		case 'n':
			e.Named = r.bool()
		case 'e':
			e.Enqueued = r.int()
		case 't':
			e.ETA = r.int()
		case 'r':
			if r.skipNil() { // nil, then perhaps a later Retry from zero
				retry, hasRetry = Retry{}, false
				break
			}
			hasRetry = true
			r.retry(&retry)
		case 'f':
			e.FirstTry = r.int()
		case 'x':
			e.Failures = int32(r.int())
		case 's':
			e.LastStatus = int(r.int())
		case 'z':
			e.LastError = r.str()
		case 'a':
			e.Attempts = int32(r.int())
		case 'y':
			e.Reason = r.str()
		case 'k':
			e.Died = r.int()
		case 'P':
			e.Permanent = r.bool()
		case 'R':
			e.Result = r.bin()
		case 'H':
			e.ResultHeader = r.header(e.ResultHeader)
		case 'D':
			e.DiscardResult = r.bool()
		case 'u':
			e.CallbackURL = r.str()
		case 'U':
			e.Callback = r.str()
		case 'w':
			e.URL = r.str()
		default:
			r.skip()
		}
	}
	if r.failed {
		return false
	}
	if hasRetry {
		e.Retry = &retry
	}
	*dst = e
	return true
}

// retry reads a Retry map into p, over the fields p already has (as msgpack.Unmarshal
// does for a repeated key). The caller has read a nil Retry: msgpack.Unmarshal makes it
// a nil pointer, not a zero Retry.
func (r *reader) retry(p *Retry) {
	n := r.mapLen()
	for ; n > 0 && !r.failed; n-- {
		switch r.key() {
		case 'l':
			p.Limit = int32(r.int())
		case 'L':
			p.ApplyLimit = r.bool()
		case 'a':
			p.AgeLimit = r.int()
		case 'n':
			p.MinBackoff = r.int()
		case 'x':
			p.MaxBackoff = r.int()
		case 'd':
			p.MaxDoublings = int32(r.int())
		case 'D':
			p.ApplyDoubl = r.bool()
		default:
			r.skip()
		}
	}
}
