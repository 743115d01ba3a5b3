package delay

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"io"
	"reflect"
	"strconv"
)

// The payload of a delay task is a gob stream of two values: an invocation, then (when the
// function has parameters to send) one struct whose fields hold the arguments, each with
// its parameter's declared type. Encoding each argument as its declared type, not as an
// interface{} as App Engine does, means concrete parameter types need no gob.Register, so
// variadic element types just work and nothing registers T and *T under clashing names.
//
// The args struct has a field "A<i>" for the i-th parameter after the context (1-based,
// as in error messages), and for a variadic function a field "V" holding the variadic
// arguments, each wrapped in a struct{V T} so that a nil element (which gob cannot put in
// a slice) travels as an absent field. Parameters of kinds gob cannot send (chan, func)
// have no field: their argument can only be nil.

// invocation is the head of a payload.
type invocation struct {
	Key string // the function's registry key
	// Func is the function's type when the task was made, for error messages.
	Func string
	// Fixed is the number of arguments after the context and before the variadic ones.
	Fixed int
	// Variadic reports whether the function was variadic; NVar is then the number of
	// variadic arguments.
	Variadic bool
	NVar     int
}

// maxNVar bounds the variadic arguments a payload may claim.
const maxNVar = 1 << 16

// signature is what encoding and decoding need to know of a function's parameters.
type signature struct {
	ft       reflect.Type
	fixed    []reflect.Type // parameters after the context, without the variadic one
	variadic reflect.Type   // element type of the variadic parameter; nil when none
	args     reflect.Type   // the args struct; nil when there is nothing to send
	field    []int          // field index in args of each fixed parameter; -1 when not sent
	vfield   int            // field index in args of V; -1 when none
	wrap     reflect.Type   // struct{V variadic}
}

func newSignature(ft reflect.Type) *signature {
	s := &signature{ft: ft, vfield: -1}
	n := ft.NumIn()
	if ft.IsVariadic() {
		n--
		s.variadic = ft.In(n).Elem()
	}
	var fields []reflect.StructField
	for i := 1; i < n; i++ {
		t := ft.In(i)
		s.fixed = append(s.fixed, t)
		if !sendable(t) {
			s.field = append(s.field, -1)
			continue
		}
		s.field = append(s.field, len(fields))
		fields = append(fields, reflect.StructField{Name: "A" + strconv.Itoa(i), Type: t})
	}
	if s.variadic != nil && sendable(s.variadic) {
		s.wrap = reflect.StructOf([]reflect.StructField{{Name: "V", Type: s.variadic}})
		s.vfield = len(fields)
		fields = append(fields, reflect.StructField{Name: "V", Type: reflect.SliceOf(s.wrap)})
	}
	if len(fields) > 0 {
		s.args = reflect.StructOf(fields)
	}
	return s
}

// sendable reports whether gob can send a value of type t (it skips chan and func fields).
func sendable(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return false
	}
	return true
}

func nilable(k reflect.Kind) bool {
	switch k {
	case reflect.Chan, reflect.Func, reflect.Interface, reflect.Map, reflect.Pointer, reflect.Slice:
		return true
	}
	return false
}

// encode checks args against the parameters, as App Engine's Function.Task does and with
// its error texts, and returns the payload.
func (s *signature) encode(key string, args []any) ([]byte, error) {
	nArgs := len(args) + 1 // the context counts, as in App Engine's messages
	minArgs := s.ft.NumIn()
	if s.variadic != nil {
		minArgs--
	}
	if nArgs < minArgs {
		return nil, fmt.Errorf("delay: too few arguments to func: %d < %d", nArgs, minArgs)
	}
	if s.variadic == nil && nArgs > minArgs {
		return nil, fmt.Errorf("delay: too many arguments to func: %d > %d", nArgs, minArgs)
	}
	inv := invocation{Key: key, Func: s.ft.String(), Fixed: len(s.fixed), Variadic: s.variadic != nil}
	var v, vs reflect.Value
	if s.args != nil {
		v = reflect.New(s.args).Elem()
	}
	if s.variadic != nil {
		inv.NVar = len(args) - len(s.fixed)
		if s.wrap != nil && inv.NVar > 0 {
			vs = reflect.MakeSlice(reflect.SliceOf(s.wrap), inv.NVar, inv.NVar)
			v.Field(s.vfield).Set(vs)
		}
	}
	for i, arg := range args {
		var dt reflect.Type // the declared type
		var dst reflect.Value
		if i < len(s.fixed) {
			dt = s.fixed[i]
			if s.field[i] >= 0 {
				dst = v.Field(s.field[i])
			}
		} else {
			dt = s.variadic
			if vs.IsValid() {
				dst = vs.Index(i - len(s.fixed)).Field(0)
			}
		}
		at := reflect.TypeOf(arg)
		if at == nil { // an untyped nil
			if !nilable(dt.Kind()) {
				return nil, fmt.Errorf("delay: argument %d has wrong type: %v is not nilable", i+1, dt)
			}
			continue // the zero value is nil
		}
		if !at.AssignableTo(dt) {
			return nil, fmt.Errorf("delay: argument %d has wrong type: %v is not assignable to %v", i+1, at, dt)
		}
		av := reflect.ValueOf(arg)
		if nilable(at.Kind()) && av.IsNil() {
			continue // a typed nil arrives as the parameter type's nil, as in App Engine
		}
		if !dst.IsValid() { // a non-nil chan or func
			return nil, fmt.Errorf("delay: gob encoding failed: %v", unsendable(av))
		}
		dst.Set(av)
	}
	var buf bytes.Buffer
	enc := gob.NewEncoder(&buf)
	if err := enc.Encode(&inv); err != nil {
		return nil, fmt.Errorf("delay: gob encoding failed: %v", err)
	}
	if s.args != nil {
		if err := enc.EncodeValue(v); err != nil {
			return nil, fmt.Errorf("delay: gob encoding failed: %v", err)
		}
	}
	return buf.Bytes(), nil
}

// unsendable returns gob's own error for a value it cannot send.
func unsendable(v reflect.Value) error {
	if err := gob.NewEncoder(io.Discard).EncodeValue(v); err != nil {
		return err
	}
	return fmt.Errorf("gob: type %v cannot be sent", v.Type())
}

// decodeHead reads the invocation at the start of a payload.
func decodeHead(dec *gob.Decoder) (invocation, error) {
	var inv invocation
	if err := dec.Decode(&inv); err != nil {
		return inv, err
	}
	if inv.Key == "" {
		return inv, fmt.Errorf("no func key")
	}
	return inv, nil
}

// decodeArgs reads the arguments that follow inv and returns the values to call the
// function with, after ctx. An error means the task's arguments do not fit the function.
func (s *signature) decodeArgs(dec *gob.Decoder, inv invocation) (in []reflect.Value, err error) {
	if inv.Fixed != len(s.fixed) || inv.Variadic != (s.variadic != nil) || inv.NVar < 0 || inv.NVar > maxNVar {
		return nil, fmt.Errorf("the task was made for %s, with %d arguments after the context", inv.Func, inv.Fixed+inv.NVar)
	}
	var v reflect.Value
	if s.args != nil {
		p := reflect.New(s.args)
		if err := dec.DecodeValue(p); err != nil {
			return nil, fmt.Errorf("the task was made for %s: %v", inv.Func, err)
		}
		v = p.Elem()
	}
	var vs reflect.Value
	if s.vfield >= 0 {
		vs = v.Field(s.vfield)
		if vs.Len() != inv.NVar {
			return nil, fmt.Errorf("the task was made for %s, with %d variadic arguments, but holds %d", inv.Func, inv.NVar, vs.Len())
		}
	}
	in = make([]reflect.Value, 0, len(s.fixed)+inv.NVar)
	for i, t := range s.fixed {
		if s.field[i] < 0 {
			in = append(in, reflect.Zero(t))
			continue
		}
		in = append(in, v.Field(s.field[i]))
	}
	for j := 0; j < inv.NVar; j++ {
		if vs.IsValid() {
			in = append(in, vs.Index(j).Field(0))
		} else {
			in = append(in, reflect.Zero(s.variadic))
		}
	}
	return in, nil
}
