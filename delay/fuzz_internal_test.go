package delay

import (
	"bytes"
	"context"
	"encoding/gob"
	"reflect"
	"testing"
)

type fuzzT struct {
	A int
	B []string
}

// FuzzDecodePayload feeds the payload decoder arbitrary bytes: it returns an error or
// arguments that fit the function, and never panics.
func FuzzDecodePayload(f *testing.F) {
	fn := func(context.Context, string, *fuzzT, map[string]int, any, chan int, ...[]byte) {}
	sig := newSignature(reflect.TypeOf(fn))
	for _, args := range [][]any{
		{"a", &fuzzT{1, []string{"x"}}, map[string]int{"k": 1}, 5, nil},
		{"", nil, nil, nil, nil, []byte("v"), nil, []byte{}},
	} {
		p, err := sig.encode("k", args)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p)
	}
	f.Add([]byte("garbage"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		dec := gob.NewDecoder(bytes.NewReader(b))
		inv, err := decodeHead(dec)
		if err != nil {
			return
		}
		in, err := sig.decodeArgs(dec, inv)
		if err != nil {
			return
		}
		ft := sig.ft
		if len(in) < ft.NumIn()-2 {
			t.Fatalf("%d arguments for %s", len(in), ft)
		}
		for i, v := range in {
			want := sig.variadic
			if i < len(sig.fixed) {
				want = sig.fixed[i]
			}
			if !v.Type().AssignableTo(want) {
				t.Fatalf("argument %d is a %s, want %s", i+1, v.Type(), want)
			}
		}
		reflect.ValueOf(fn).Call(append([]reflect.Value{reflect.ValueOf(context.Background())}, in...))
	})
}
