package broker

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// The hand-written encoders must write what msgpack reads back into the same values.
func TestEncodersRoundTrip(t *testing.T) {
	t.Parallel()
	full := &Envelope{
		Path: "/p", Method: "PUT", Header: map[string][]string{"A": {"1", "2"}, "B": {strings.Repeat("x", 300)}},
		Payload: []byte(strings.Repeat("y", 70000)), Tag: "t", Pull: true, Named: true,
		Enqueued: 1732000000000, ETA: -5, Retry: &Retry{Limit: 3, ApplyLimit: true, AgeLimit: 1 << 40, MinBackoff: 100, MaxBackoff: 70000, MaxDoublings: 2, ApplyDoubl: true},
		FirstTry: 1, Failures: 200, LastStatus: 503, LastError: strings.Repeat("e", 40), Attempts: 70000, Reason: "r",
		Died: -1 << 40, Permanent: true, Result: []byte{0}, ResultHeader: map[string][]string{"C": {}},
		DiscardResult: true, CallbackURL: "http://cb", Callback: "c", URL: "http://u",
	}
	for _, e := range []*Envelope{{}, {Payload: []byte("12345678"), Enqueued: 1732000000000, ETA: 1732000000000}, full} {
		b, err := EncodeEnvelope(e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeEnvelope(b)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, e)
		}
		want, _ := msgpack.Marshal(e)
		if len(b) > len(want) {
			t.Errorf("hand-written form is %d bytes, msgpack's %d", len(b), len(want))
		}
		for _, due := range []int64{0, 1732000000000, math.MinInt64} {
			stored, env := EncodeStored(e, due)
			if prefix := fmt.Sprintf("0;%d;", due); string(stored) != prefix+string(b) || !bytes.Equal(env, b) {
				t.Errorf("EncodeStored(due %d) = %q, %q; want %q + the envelope", due, stored[:min(len(stored), 40)], env[:min(len(env), 20)], prefix)
			}
		}
	}
	rec := &Record{Attempts: 2, Enqueued: 1, Started: 2, Finished: 3, Status: 201, Header: map[string][]string{"X": {"y"}}, Result: []byte("ok"), LastError: "e"}
	for _, r := range []*Record{{}, rec} {
		b, _ := EncodeRecord(r)
		got, err := DecodeRecord(b)
		if err != nil || !reflect.DeepEqual(got, r) {
			t.Errorf("record round trip: %+v, %v; want %+v", got, err, r)
		}
	}
}

func BenchmarkEncodeEnvelope(b *testing.B) {
	e := &Envelope{Payload: []byte("12345678"), Enqueued: 1732000000000, ETA: 1732000000000}
	b.ReportAllocs()
	for b.Loop() {
		_, _ = EncodeEnvelope(e)
	}
}
