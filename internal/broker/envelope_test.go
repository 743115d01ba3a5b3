package broker

import (
	"bytes"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

func TestEnvelopeRoundTrip(t *testing.T) {
	t.Parallel()
	in := &Envelope{
		Path: "/p", Method: "PUT", Header: map[string][]string{"A": {"1", "2"}}, Payload: []byte{0, 1, 2},
		Tag: "t", Pull: true, Named: true, Enqueued: 1, ETA: 2,
		Retry:    &Retry{Limit: 3, ApplyLimit: true, AgeLimit: 4, MinBackoff: 5, MaxBackoff: 6, MaxDoublings: 7, ApplyDoubl: true},
		FirstTry: 8, Failures: 9, LastStatus: 500, LastError: "e", Attempts: 10, Reason: "r", Died: 11,
	}
	b, err := EncodeEnvelope(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := DecodeEnvelope(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", out, in)
	}
	// The zero envelope is small: what a plain waiting task costs in memory.
	if b, _ := EncodeEnvelope(&Envelope{}); len(b) > 1 {
		t.Errorf("empty envelope takes %d bytes", len(b))
	}
	if _, err := DecodeEnvelope([]byte{0xc1}); err == nil {
		t.Error("DecodeEnvelope of garbage: no error")
	}
}

func FuzzDecodeEnvelope(f *testing.F) {
	for _, e := range []*Envelope{
		{},
		{Path: "/x", Payload: []byte("hi"), Header: map[string][]string{"K": {"v"}}, Retry: &Retry{Limit: 1}},
		{Pull: true, Tag: "t", Reason: "dead", Died: 1 << 40},
	} {
		b, err := EncodeEnvelope(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// Both stored forms of the small envelopes of the decoder's table.
	for _, e := range decodeTable() {
		for _, encode := range []func(*Envelope) ([]byte, error){EncodeEnvelope, func(e *Envelope) ([]byte, error) { return msgpack.Marshal(e) }} {
			if b, err := encode(e); err == nil && len(b) < 512 {
				f.Add(b)
			}
		}
	}
	f.Add([]byte{})
	f.Add([]byte{0xde, 0xff, 0xff})
	f.Add([]byte("\x81\xa1b\xc6\x7f\xff\xff\xff"))                   // a 2 GiB Payload that is not there
	f.Add([]byte("\x82\xa1h\x81\xa1A\x91\xa1a\xa1h\x81\xa1B\x90"))   // a repeated key
	f.Add([]byte("\x81\xa1e\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00"))   // a float for an int
	f.Add([]byte("\xdc\x00\x18\xa2/p" + strings.Repeat("\xc0", 23))) // an array of every field
	f.Fuzz(func(t *testing.T, b []byte) {
		// The length check accepts exactly the values msgpack itself can walk.
		skipErr := msgpack.NewDecoder(bytes.NewReader(b)).Skip()
		lengthErr := checkLengths(b)
		if (lengthErr == nil) != (skipErr == nil) {
			t.Fatalf("checkLengths(%x) = %v, but msgpack's Skip says %v", b, lengthErr, skipErr)
		}
		e, err := DecodeEnvelope(b)
		if lengthErr != nil {
			if err == nil {
				t.Fatalf("DecodeEnvelope(%x) = %+v, but checkLengths fails: %v", b, e, lengthErr)
			}
			return
		}
		// Past the length check (and only there: msgpack.Unmarshal would allocate what
		// damaged length headers declare), DecodeEnvelope gives what msgpack.Unmarshal
		// gives, the hand-written decoder or not.
		var want Envelope
		wantErr := msgpack.Unmarshal(b, &want)
		switch {
		case wantErr == nil && err != nil:
			t.Fatalf("DecodeEnvelope(%x): %v, but msgpack.Unmarshal gives %+v", b, err, want)
		case wantErr != nil && err == nil:
			t.Fatalf("DecodeEnvelope(%x) = %+v, but msgpack.Unmarshal fails: %v", b, e, wantErr)
		case err == nil && !reflect.DeepEqual(e, &want):
			t.Fatalf("DecodeEnvelope(%x):\n got %+v\nwant %+v (msgpack.Unmarshal)", b, e, &want)
		}
		if err != nil {
			return
		}
		// Whatever decodes re-encodes, and the re-encoding is stable.
		b1, err := EncodeEnvelope(e)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		e2, err := DecodeEnvelope(b1)
		if err != nil {
			t.Fatalf("decode of a re-encoded envelope: %v", err)
		}
		b2, err := EncodeEnvelope(e2)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b1, b2) {
			t.Fatalf("encoding not stable: %x then %x", b1, b2)
		}
	})
}

// TestDecodeEnvelopeDamaged checks that a few damaged bytes cannot make the decoder
// allocate what their length headers claim (gigabytes).
func TestDecodeEnvelopeDamaged(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"\x81\xa1b\xc6\x7f\xff\xff\xff",          // Payload: bin32 of 2 GiB
		"\x81\xa1p\xdb\x7f\xff\xff\xff",          // Path: str32 of 2 GiB
		"\x81\xa1h\xdf\x7f\xff\xff\xff",          // Header: map32 of 2^31 entries
		"\x81\xa1h\x81\xa1k\xdd\x7f\xff\xff\xff", // a header's values: array32 of 2^31
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := DecodeEnvelope([]byte(in))
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Errorf("DecodeEnvelope(%q): no error", in)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 256<<20 { // 2 GiB without the guard; other tests run in parallel
			t.Errorf("DecodeEnvelope(%q) allocated %d MiB", in, grew>>20)
		}
	}
}

// TestDecodeEnvelopeDamagedRepeatedly checks that damaged envelopes leave no memory
// behind: msgpack's pooled decoders used to keep a buffer grown by each one.
func TestDecodeEnvelopeDamagedRepeatedly(t *testing.T) {
	t.Parallel()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 300 {
		if _, err := DecodeEnvelope([]byte("\x81\xa1p\xdb\x7f\xff\xff\xff")); err == nil {
			t.Fatal("no error")
		}
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 256<<20 { // 45 GiB without the check
		t.Errorf("300 damaged envelopes allocated %d MiB", grew>>20)
	}
}

func BenchmarkDecodeEnvelope(b *testing.B) {
	env, _ := EncodeEnvelope(&Envelope{Payload: make([]byte, 200), Named: true, Enqueued: 1, ETA: 2, Retry: &Retry{Limit: 3}})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeEnvelope(env); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeEnvelopeMsgpack decodes the envelope of BenchmarkDecodeEnvelope the way
// DecodeEnvelope did before it had a hand-written decoder (and still does for forms that
// decoder does not handle), for comparison.
func BenchmarkDecodeEnvelopeMsgpack(b *testing.B) {
	env, _ := EncodeEnvelope(&Envelope{Payload: make([]byte, 200), Named: true, Enqueued: 1, ETA: 2, Retry: &Retry{Limit: 3}})
	b.ReportAllocs()
	for b.Loop() {
		if err := checkLengths(env); err != nil {
			b.Fatal(err)
		}
		var e Envelope
		if err := msgpack.Unmarshal(env, &e); err != nil {
			b.Fatal(err)
		}
	}
}
