package broker

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// decodeTable is a set of envelopes that exercises every field and every width of
// every msgpack form the encoders write for them.
func decodeTable() []*Envelope {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	many := map[string][]string{}
	for i := range 20 { // map16 of keys
		many[fmt.Sprint("K", i)] = []string{fmt.Sprint(i)}
	}
	var values []string
	for i := range 17 { // array16 of values
		values = append(values, strings.Repeat("v", i))
	}
	table := []*Envelope{
		{},
		{Path: "/p"},
		{Named: true},
		{Retry: &Retry{}},
		{ // every field, so the map is a map16
			Path: "/p", Method: "PUT", Header: map[string][]string{"A": {"1", "2"}, "B": {"x"}, "": {""}},
			Payload: []byte{0, 1, 2, 0xc1, 0xff}, Tag: "t", Pull: true, Named: true, Enqueued: 1732000000000, ETA: 1732000000001,
			Retry:    &Retry{Limit: 3, ApplyLimit: true, AgeLimit: 1 << 40, MinBackoff: 100, MaxBackoff: 70000, MaxDoublings: 2, ApplyDoubl: true},
			FirstTry: 1, Failures: 200, LastStatus: 503, LastError: "e", Attempts: 70000, Reason: "r", Died: 1 << 41,
			Permanent: true, Result: []byte("result"), ResultHeader: map[string][]string{"C": {"c1", "c2", "c3"}, "D": {}},
			DiscardResult: true, CallbackURL: "http://cb", Callback: "c", URL: "http://u",
		},
		{Payload: all, Result: all[:1]},
		{Header: many, ResultHeader: map[string][]string{"V": values}},
		{Retry: &Retry{Limit: -1, AgeLimit: -1 << 40, MinBackoff: math.MinInt64, MaxBackoff: math.MaxInt64, MaxDoublings: math.MinInt32}},
	}
	// Strings and byte slices at the edge of every length width.
	for _, n := range []int{31, 32, 255, 256, 65535, 65536, 70000} {
		s := strings.Repeat("s", n)
		table = append(table, &Envelope{
			Path: s, LastError: s, Header: map[string][]string{s: {s}},
			Payload: bytes.Repeat([]byte{0xab}, n), Result: []byte(s),
		})
	}
	// Integers at the edge of every width, both signs.
	for _, v := range []int64{
		1, 127, 128, 255, 256, 65535, 65536, math.MaxUint32, math.MaxUint32 + 1, math.MaxInt64,
		-1, -32, -33, -128, -129, -32768, -32769, math.MinInt32, math.MinInt32 - 1, math.MinInt64,
	} {
		table = append(table, &Envelope{
			Enqueued: v, ETA: -v, FirstTry: v, Died: v, LastStatus: int(v),
			Failures: int32(v), Attempts: int32(-v), Retry: &Retry{Limit: int32(v), AgeLimit: v, MinBackoff: v, MaxBackoff: -v, MaxDoublings: int32(v)},
		})
	}
	return table
}

// TestDecodeEnvelopeTable checks both stored forms of every table envelope: the
// hand-written encoder's, which must round-trip, and msgpack.Marshal's (what older
// versions stored), which must decode as msgpack.Unmarshal decodes it. Both must take
// the fast path.
func TestDecodeEnvelopeTable(t *testing.T) {
	t.Parallel()
	for i, in := range decodeTable() {
		b, err := EncodeEnvelope(in)
		if err != nil {
			t.Fatal(err)
		}
		if !decodeEnvelope(b, new(Envelope)) {
			t.Errorf("%d: the fast decoder gave up on EncodeEnvelope's form %.64x", i, b)
		}
		got, err := DecodeEnvelope(b)
		if err != nil {
			t.Fatalf("%d: decode: %v", i, err)
		}
		if !reflect.DeepEqual(got, in) {
			t.Errorf("%d: round trip:\n got %+v\nwant %+v", i, got, in)
		}

		b, err = msgpack.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		if !decodeEnvelope(b, new(Envelope)) {
			t.Errorf("%d: the fast decoder gave up on msgpack.Marshal's form %.64x", i, b)
		}
		checkAsMsgpack(t, b)
	}
}

// checkAsMsgpack checks that DecodeEnvelope gives what msgpack.Unmarshal gives (b must
// pass checkLengths, or msgpack.Unmarshal may allocate gigabytes).
func checkAsMsgpack(t *testing.T, b []byte) {
	t.Helper()
	var want Envelope
	wantErr := msgpack.Unmarshal(b, &want)
	got, err := DecodeEnvelope(b)
	switch {
	case wantErr != nil && err == nil:
		t.Errorf("DecodeEnvelope(%.64x) = %+v, but msgpack.Unmarshal fails: %v", b, got, wantErr)
	case wantErr == nil && err != nil:
		t.Errorf("DecodeEnvelope(%.64x): %v, but msgpack.Unmarshal gives %+v", b, err, want)
	case err == nil && !reflect.DeepEqual(got, &want):
		t.Errorf("DecodeEnvelope(%.64x):\n got %+v\nwant %+v (msgpack.Unmarshal)", b, got, &want)
	}
}

// mp concatenates parts (strings, byte slices, appenders, bytes) into msgpack bytes.
func mp(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			b = append(b, p...)
		case []byte:
			b = append(b, p...)
		case appender:
			b = append(b, p...)
		case byte:
			b = append(b, p)
		default:
			panic(fmt.Sprintf("mp: %T", p))
		}
	}
	return b
}

// str8 writes s as a str8, whatever its length.
func str8(s string) []byte { return append([]byte{0xd9, byte(len(s))}, s...) }

// str16 writes s as a str16, whatever its length.
func str16(s string) []byte {
	return append(binary.BigEndian.AppendUint16([]byte{0xda}, uint16(len(s))), s...)
}

// str32 writes s as a str32, whatever its length.
func str32(s string) []byte {
	return append(binary.BigEndian.AppendUint32([]byte{0xdb}, uint32(len(s))), s...)
}

// bin8 writes s as a bin8.
func bin8(s string) []byte { return append([]byte{0xc4, byte(len(s))}, s...) }

// bin16 writes s as a bin16.
func bin16(s string) []byte {
	return append(binary.BigEndian.AppendUint16([]byte{0xc5}, uint16(len(s))), s...)
}

// bin32 writes s as a bin32.
func bin32(s string) []byte {
	return append(binary.BigEndian.AppendUint32([]byte{0xc6}, uint32(len(s))), s...)
}

// fieldKey writes a struct field's key as a fixstr.
func fieldKey(k string) appender { return appender(nil).str(k) }

// TestDecodeEnvelopeForms checks, against msgpack.Unmarshal, the forms a msgpack writer
// may use that the hand-written encoder does not: other widths, nil for any field, a
// str where bin is due and the other way round, unknown keys, repeated keys. Those the
// fast decoder handles must not need the fallback.
func TestDecodeEnvelopeForms(t *testing.T) {
	t.Parallel()
	fast := [][]byte{
		mp("\xc0"),                 // nil: the zero envelope
		mp("\x80"),                 // empty map
		mp("\xde\x00\x00"),         // empty map16
		mp("\xdf\x00\x00\x00\x00"), // empty map32
		mp("\xde\x00\x01", fieldKey("p"), str8("/x")),
		mp("\xdf\x00\x00\x00\x01", fieldKey("p"), str16("/x")),
		mp("\x83", fieldKey("p"), str32("/x"), fieldKey("m"), bin8("GET"), fieldKey("g"), bin16("t")),
		mp("\x83", fieldKey("b"), "\xa3abc", fieldKey("R"), str8("r"), fieldKey("z"), bin32("e")),
		mp("\x82", fieldKey("b"), bin16("abc"), fieldKey("R"), bin32("r")),
		mp("\x82", fieldKey("b"), "\xc4\x00", fieldKey("R"), "\xa0"), // empty, not nil
		mp("\x81", fieldKey("b"), "\xc0"),
		mp("\x81", fieldKey("R"), "\xd9\x00"),
		// nil for every field
		mp("\xde\x00\x18", fieldKey("p"), "\xc0", fieldKey("m"), "\xc0", fieldKey("h"), "\xc0", fieldKey("b"), "\xc0", fieldKey("g"), "\xc0",
			fieldKey("l"), "\xc0", fieldKey("n"), "\xc0", fieldKey("e"), "\xc0", fieldKey("t"), "\xc0", fieldKey("r"), "\xc0", fieldKey("f"), "\xc0",
			fieldKey("x"), "\xc0", fieldKey("s"), "\xc0", fieldKey("z"), "\xc0", fieldKey("a"), "\xc0", fieldKey("y"), "\xc0", fieldKey("k"), "\xc0",
			fieldKey("P"), "\xc0", fieldKey("R"), "\xc0", fieldKey("H"), "\xc0", fieldKey("D"), "\xc0", fieldKey("u"), "\xc0", fieldKey("U"), "\xc0",
			fieldKey("w"), "\xc0"),
		mp("\x81", fieldKey("r"), "\x87", fieldKey("l"), "\xc0", fieldKey("L"), "\xc0", fieldKey("a"), "\xc0", fieldKey("n"), "\xc0",
			fieldKey("x"), "\xc0", fieldKey("d"), "\xc0", fieldKey("D"), "\xc0"),
		// false, written out
		mp("\x85", fieldKey("l"), "\xc2", fieldKey("n"), "\xc2", fieldKey("P"), "\xc2", fieldKey("D"), "\xc2", fieldKey("r"), "\x82", fieldKey("L"), "\xc2", fieldKey("D"), "\xc3"),
		// integers in wider forms than needed, and out of range for int32 fields (truncated)
		mp("\x86", fieldKey("e"), "\xcf\x00\x00\x00\x00\x00\x00\x00\x01", fieldKey("t"), "\xd3\xff\xff\xff\xff\xff\xff\xff\xff",
			fieldKey("f"), "\xcc\x05", fieldKey("x"), "\xcf\x00\x00\x00\x01\x00\x00\x00\x07", fieldKey("s"), "\xd0\x80", fieldKey("a"), "\xce\xff\xff\xff\xff"),
		mp("\x83", fieldKey("e"), "\xcf\xff\xff\xff\xff\xff\xff\xff\xff", fieldKey("k"), "\xd1\x80\x00", fieldKey("t"), "\xd2\x80\x00\x00\x00"),
		mp("\x81", fieldKey("r"), "\x82", fieldKey("l"), "\xd3\x00\x00\x00\x01\x00\x00\x00\x02", fieldKey("d"), "\xcd\xff\xff"),
		// headers: empty map, nil and empty value lists, wide forms, nil and bin keys and values
		mp("\x81", fieldKey("h"), "\x80"),
		mp("\x81", fieldKey("H"), "\xde\x00\x00"),
		mp("\x81", fieldKey("h"), "\x82", fieldKey("A"), "\xc0", fieldKey("B"), "\x90"),
		mp("\x81", fieldKey("h"), "\xdf\x00\x00\x00\x02", bin8("A"), "\xdc\x00\x02", str16("1"), "\xc0", "\xc0", "\xdd\x00\x00\x00\x01", bin32("2")),
		// repeated keys: the last wins, but maps and a Retry take the entries of both
		mp("\x82", fieldKey("p"), "\xa1a", fieldKey("p"), "\xa1b"),
		mp("\x82", fieldKey("b"), "\xa5abcde", fieldKey("b"), "\xa2xy"),
		mp("\x82", fieldKey("b"), "\xa5abcde", fieldKey("b"), "\xc0"),
		mp("\x83", fieldKey("h"), "\x81", fieldKey("A"), "\x91\xa1a", fieldKey("h"), "\x82", fieldKey("B"), "\x90", fieldKey("A"), "\x91\xa1b", fieldKey("H"), "\x80"),
		mp("\x82", fieldKey("h"), "\x81", fieldKey("A"), "\x91\xa1a", fieldKey("h"), "\x80"),
		mp("\x82", fieldKey("h"), "\x81", fieldKey("A"), "\x91\xa1a", fieldKey("h"), "\xc0"),
		mp("\x82", fieldKey("r"), "\x81", fieldKey("l"), "\x01", fieldKey("r"), "\x81", fieldKey("a"), "\x02"),
		mp("\x83", fieldKey("r"), "\x81", fieldKey("l"), "\x01", fieldKey("r"), "\xc0", fieldKey("r"), "\x81", fieldKey("a"), "\x02"),
		mp("\x82", fieldKey("r"), "\x81", fieldKey("l"), "\x01", fieldKey("r"), "\xc0"),
		// unknown keys, of every length and type, with values of every type
		mp("\x8a", fieldKey("q"), "\xca\x00\x00\x00\x00", fieldKey("Q"), "\xcb\x00\x00\x00\x00\x00\x00\x00\x00",
			fieldKey(""), "\xd4\x01\x02", "\xc0", "\xc7\x02\x05ab", fieldKey("pp"), "\x92\x81\xa1p\xa1x\xc3",
			bin8("p1"), "\xdc\x00\x01\xdf\x00\x00\x00\x00", fieldKey("Path"), "\xde\x00\x01\xc0\xc0",
			fieldKey("\xff"), "\xdd\x00\x00\x00\x00", fieldKey("é"), "\xd8\x01"+strings.Repeat("x", 16),
			fieldKey("j"), "\xc9\x00\x00\x00\x01\x01x", fieldKey("p"), "\xa1p"),
		mp("\x81", fieldKey("r"), "\x82", fieldKey("z"), "\x81\xa1l\x05", fieldKey("l"), "\x06"),
		// a bin key, a str8 key
		mp("\x82", bin8("p"), "\xa1p", str8("g"), "\xa1g"),
		// trailing bytes after the envelope are ignored, as msgpack.Unmarshal ignores them
		mp("\x81", fieldKey("p"), "\xa1p", "\xc1\xc1"),
	}
	for _, b := range fast {
		if err := checkLengths(b); err != nil {
			t.Fatalf("test input %x: %v", b, err)
		}
		if !decodeEnvelope(b, new(Envelope)) {
			t.Errorf("the fast decoder gave up on %x", b)
		}
		checkAsMsgpack(t, b)
	}

	// Forms only msgpack.Unmarshal handles (or rejects): decoded through the fallback.
	slow := [][]byte{
		mp("\x90"), // a struct as an empty array: the zero envelope
		mp("\xdc\x00\x00"),
		mp("\x91\xa1p"), // an array of the wrong length: an error
		mp("\xdc\x00\x18", "\xa2/p\xa3GET", strings.Repeat("\xc0", 22)), // an array of every field
		mp("\x81", fieldKey("r"), "\x90"),
		mp("\x81", fieldKey("h"), "\xd4\x00\x80"),                         // ext header before a map: msgpack skips it
		mp("\x81", fieldKey("e"), "\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00"), // a float for an int
		mp("\x81", fieldKey("l"), "\x01"),                                 // an int for a bool
		mp("\x81", fieldKey("p"), "\x01"),                                 // an int for a string
		mp("\x81", fieldKey("b"), "\x91\x01"),                             // an array for bytes
		mp("\x81", fieldKey("h"), "\x91\x01"),                             // an array for a map
		mp("\x81", fieldKey("h"), "\x81\xa1k\xa1v"),                       // a string for the value list
		mp("\x81", fieldKey("h"), "\x81\x01\x90"),                         // an int key in a header
		mp("\x81", "\x01", "\xa1p"),                                       // an int key
		mp("\x81", fieldKey("r"), "\xa1r"),                                // a string for a Retry
		mp("\x81", fieldKey("r"), "\x81", fieldKey("L"), "\x01"),          // an int for a bool in a Retry
		mp("\xa1p"),                       // not a map
		mp("\x01"),                        // not a map
		mp("\x81", fieldKey("p"), "\xc1"), // the reserved code
		// msgpack.Unmarshal reads an ext header, then an empty map; but as a value this is
		// a fixext2 a byte short, and checkLengths calls it damaged.
		mp("\x81", fieldKey("h"), "\xd5\x00\x80"),
	}
	for _, b := range slow {
		if err := checkLengths(b); err != nil {
			checkDamaged(t, b)
			continue
		}
		checkAsMsgpack(t, b)
	}
}

// checkDamaged checks that DecodeEnvelope rejects b.
func checkDamaged(t *testing.T, b []byte) {
	t.Helper()
	if e, err := DecodeEnvelope(b); err == nil {
		t.Errorf("DecodeEnvelope(%.64x) of damaged data = %+v, no error", b, e)
	}
}

// TestDecodeEnvelopeTruncated checks that every truncation of a stored envelope is an
// error.
func TestDecodeEnvelopeTruncated(t *testing.T) {
	t.Parallel()
	for _, in := range decodeTable() {
		for _, encode := range []func(*Envelope) ([]byte, error){EncodeEnvelope, func(e *Envelope) ([]byte, error) { return msgpack.Marshal(e) }} {
			b, err := encode(in)
			if err != nil {
				t.Fatal(err)
			}
			step := 1
			if len(b) > 4096 {
				step = 97
			}
			for n := 0; n < len(b); n += step {
				checkDamaged(t, b[:n])
			}
		}
	}
}

// TestDecodeEnvelopeDamagedBytes changes bytes of stored envelopes one at a time: each
// result must be an error (when checkLengths fails) or exactly msgpack.Unmarshal's.
func TestDecodeEnvelopeDamagedBytes(t *testing.T) {
	t.Parallel()
	table := decodeTable()
	for _, in := range table[:8] { // the small ones
		b, err := EncodeEnvelope(in)
		if err != nil {
			t.Fatal(err)
		}
		for i := range b {
			for _, x := range []byte{0x00, 0x01, 0x7f, 0x80, 0x90, 0xa1, 0xc0, 0xc1, 0xc2, 0xc3, 0xcf, 0xd3, 0xdc, 0xde, 0xdf, 0xff, b[i] ^ 0x01, b[i] ^ 0x10} {
				d := bytes.Clone(b)
				d[i] = x
				if checkLengths(d) != nil {
					checkDamaged(t, d)
					continue
				}
				checkAsMsgpack(t, d)
			}
		}
	}
}

// TestDecodeEnvelopeCopies checks that the decoded envelope does not share memory with
// its input.
func TestDecodeEnvelopeCopies(t *testing.T) {
	t.Parallel()
	b, err := EncodeEnvelope(&Envelope{Path: "/p", Payload: []byte("payload"), Result: []byte("result")})
	if err != nil {
		t.Fatal(err)
	}
	e, err := DecodeEnvelope(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 'X'
	}
	if e.Path != "/p" || string(e.Payload) != "payload" || string(e.Result) != "result" {
		t.Errorf("decoded envelope changed with its input: %+v", e)
	}
}

// TestDecodeEnvelopeIntoReused decodes every envelope of the table into one Envelope in
// turn, after a full one, through the hand-written decoder and the msgpack fallback (a
// struct written as an array): each result equals a fresh decode, with nothing left over.
func TestDecodeEnvelopeIntoReused(t *testing.T) {
	t.Parallel()
	table := decodeTable()
	full := table[4]
	for i, want := range table {
		for _, form := range []string{"map", "array"} {
			var dst Envelope
			if err := DecodeEnvelopeInto(appendEnvelope(full), &dst); err != nil {
				t.Fatal(err)
			}
			b := appendEnvelope(want)
			if form == "array" {
				var buf bytes.Buffer
				enc := msgpack.NewEncoder(&buf)
				enc.UseArrayEncodedStructs(true)
				if err := enc.Encode(want); err != nil {
					t.Fatal(err)
				}
				b = buf.Bytes()
			}
			fresh, err := DecodeEnvelope(b)
			if err != nil {
				t.Fatalf("%d %s: %v", i, form, err)
			}
			if err := DecodeEnvelopeInto(b, &dst); err != nil {
				t.Fatalf("%d %s: %v", i, form, err)
			}
			if !reflect.DeepEqual(&dst, fresh) {
				t.Errorf("%d %s: reused = %+v, want %+v", i, form, dst, *fresh)
			}
		}
	}
}
