package delay_test

import (
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/redelay/redelay/delay"
)

// The fixtures of App Engine's own delay tests, declared at init time as users declare
// theirs, plus those of the fixes. They report to the sink of their delivery's context.

type CustomType struct{ N int }

type CustomInterface interface{ N() int }

type CustomImpl int

func (c CustomImpl) N() int { return int(c) }

// Unreg implements CustomInterface but is not gob-registered.
type Unreg int

func (u Unreg) N() int { return int(u) }

func init() { gob.Register(CustomImpl(0)) }

// VarElem is a variadic element type nobody registers with gob.
type VarElem struct{ X int }

// PairT is taken by one function as T and by another as *T.
type PairT struct{ N int }

type noExported struct{ n int }

type MyErr struct{}

func (*MyErr) Error() string { return "my error" }

var (
	invalidFunc = delay.Func("invalid", func() {})
	notFunc     = delay.Func("notfunc", 42)

	regFunc  = delay.Func("reg", func(ctx context.Context, arg string) { record(ctx, arg) })
	regMust  = delay.MustRegister("delay_test.reg", func(ctx context.Context, arg string) { record(ctx, "must:"+arg) })
	custFunc = delay.Func("cust", func(ctx context.Context, ct *CustomType, ci CustomInterface) {
		a, b := 2, 3
		if ct != nil {
			a = ct.N
		}
		if ci != nil {
			b = ci.N()
		}
		record(ctx, a+b)
	})
	varFunc = delay.Func("variadic", func(ctx context.Context, format string, args ...int) {
		as := make([]any, len(args))
		for i, a := range args {
			as[i] = a
		}
		record(ctx, fmt.Sprintf(format, as...))
	})
	// errFunc returns nil on its first run and an error afterwards.
	errFunc = delay.Func("err", func(ctx context.Context) error {
		if sinkOf(ctx).runs.Add(1) == 1 {
			record(ctx, "ok")
			return nil
		}
		record(ctx, "error!")
		return errors.New("error!")
	})
	dupe1 = delay.Func("dupe", func(ctx context.Context) { record(ctx, 1) })
	dupe2 = delay.Func("dupe", func(ctx context.Context) { record(ctx, 2) })

	reqFunc = delay.Func("req", func(ctx context.Context) {
		h, err := delay.RequestHeaders(context.WithValue(ctx, struct{}{}, "derived"))
		if err != nil {
			record(ctx, err)
			return
		}
		record(ctx, h)
	})
	stdCtxFunc = delay.Func("stdctx", func(ctx context.Context) { record(ctx, "ran") })

	pintFunc    = delay.Func("pint", func(ctx context.Context, x int) {})
	pintVarFunc = delay.Func("pintvar", func(ctx context.Context, xs ...int) {})
	int64Func   = delay.Func("int64", func(ctx context.Context, x int64) {})
	chanFunc    = delay.Func("chan", func(ctx context.Context, ch chan int) { record(ctx, ch == nil) })
	noExpFunc   = delay.Func("noexp", func(ctx context.Context, v noExported) {})

	roundTripFunc = delay.Func("roundtrip", func(ctx context.Context, s []int, m map[string]int, tm time.Time, d time.Duration, vs ...int) {
		record(ctx, roundTrip{s, m, tm, d, vs})
	})

	intErrFunc   = delay.Func("interr", func(ctx context.Context) (int, error) { return 1, errors.New("int err") })
	errIntFunc   = delay.Func("errint", func(ctx context.Context) (error, int) { return errors.New("ignored"), 1 }) //nolint:staticcheck // the error is not last on purpose
	myErrFunc    = delay.Func("myerr", func(ctx context.Context) *MyErr { return &MyErr{} })
	typedNilFunc = delay.Func("typednil", func(ctx context.Context) error {
		var e *MyErr
		return e
	})
	permFunc        = delay.Func("perm", func(ctx context.Context) error { return delay.Permanent(errors.New("bad input")) })
	wrappedPermFunc = delay.Func("wrappedperm", func(ctx context.Context) error {
		return fmt.Errorf("send: %w", delay.Permanent(errors.New("bad address")))
	})
	// panicFunc panics on its first run and succeeds afterwards.
	panicFunc = delay.Func("panic", func(ctx context.Context) {
		if sinkOf(ctx).runs.Add(1) == 1 {
			record(ctx, "panicking")
			panic("boom")
		}
		record(ctx, "ok")
	})
	goexitFunc = delay.Func("goexit", func(ctx context.Context) { runtime.Goexit() })

	// The fixes: a variadic element type nobody registered, and T and *T in one program
	// (App Engine panics at init for the second).
	varElemFunc = delay.Func("varelem", func(ctx context.Context, xs ...VarElem) { record(ctx, xs) })
	tFunc       = delay.Func("t", func(ctx context.Context, v PairT) { record(ctx, v) })
	ptFunc      = delay.Func("pt", func(ctx context.Context, v *PairT) { record(ctx, v) })
)

type roundTrip struct {
	S  []int
	M  map[string]int
	T  time.Time
	D  time.Duration
	VS []int
}

// Fixtures of the end-to-end tests.
var (
	// retryFunc fails its first two attempts, reporting the headers of each.
	retryFunc = delay.Func("retry", func(ctx context.Context) error {
		h, err := delay.RequestHeaders(ctx)
		if err != nil {
			return err
		}
		record(ctx, h)
		if h.TaskRetryCount < 2 {
			return fmt.Errorf("attempt %d failed", h.TaskRetryCount+1)
		}
		return nil
	})
	etaFunc = delay.Func("eta", func(ctx context.Context) {
		h, _ := delay.RequestHeaders(ctx)
		record(ctx, h.TaskETA)
	})
)

// chainFunc calls regFunc later, from inside a delayed call.
var chainFunc = delay.Func("chain", func(ctx context.Context, arg string) error {
	return regFunc.Call(ctx, arg)
})
