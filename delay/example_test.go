package delay_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/redelay/redelay/delay"
	"github.com/redelay/redelay/taskqueue"
	"github.com/redelay/redelay/worker"
)

// exampleClient returns a client of a Redis of its own (an in-memory one here; in
// production, taskqueue.NewClient(redis.NewClient(opts), nil)) and a function to stop it.
func exampleClient() (*taskqueue.Client, func()) {
	mr, err := miniredis.Run()
	if err != nil {
		panic(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	return taskqueue.NewClient(rdb, &taskqueue.Config{Logger: quiet}), func() { _ = rdb.Close(); mr.Close() }
}

// runWorker runs a worker of client until the returned function is called, which waits
// until the worker has stopped.
func runWorker(cfg worker.Config) (stop func()) {
	w, err := worker.New(cfg)
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		_ = w.Run(ctx)
		close(done)
	}()
	return func() { cancel(); <-done }
}

var greeted = make(chan struct{}, 1)

// greetFunc is declared at init time, as every delayed function must be.
var greetFunc = delay.Func("greet", func(ctx context.Context, name string) {
	fmt.Printf("Hello, %s!\n", name)
	greeted <- struct{}{}
})

// A web handler calls a function later; a worker runs it.
func Example() {
	client, closeRedis := exampleClient()
	defer closeRedis()
	ctx := taskqueue.WithClient(context.Background(), client)

	// In a web handler: add a task that calls greetFunc.
	if err := greetFunc.Call(ctx, "Gopher"); err != nil {
		fmt.Println("call:", err)
		return
	}

	// In the worker process: with no handler configured, the worker runs delay's tasks.
	stop := runWorker(worker.Config{Client: client})
	defer stop()
	<-greeted
	// Output: Hello, Gopher!
}

func ExampleFunc() {
	f := delay.Func("send", func(ctx context.Context, to string) error { return nil })
	fmt.Println(f.Key())
	// Output: github.com/redelay/redelay/delay_test/example_test.go:send
}

// sendMail keeps its key wherever its declaration moves.
var sendMail = delay.MustRegister("example.mail.send", func(ctx context.Context, to string) error { return nil })

func ExampleMustRegister() {
	fmt.Println(sendMail.Key())
	// Output: example.mail.send
}

var reportFunc = delay.Func("report", func(ctx context.Context, id int) error { return nil })

// Task makes a task to adjust before adding it: its queue, name, delay and retries.
func ExampleFunction_Task() {
	client, closeRedis := exampleClient()
	defer closeRedis()
	ctx := taskqueue.WithClient(context.Background(), client)

	t, err := reportFunc.Task(42)
	if err != nil {
		fmt.Println("task:", err)
		return
	}
	t.Name = "report-42" // a second add of this name fails with ErrTaskAlreadyAdded
	t.Delay = time.Hour
	t.RetryOptions = &taskqueue.RetryOptions{RetryLimit: 3}
	added, err := taskqueue.Add(ctx, t, "reports")
	if err != nil {
		fmt.Println("add:", err)
		return
	}
	fmt.Println(added.Name, added.Method, added.Path)
	_, err = taskqueue.Add(ctx, t, "reports")
	fmt.Println(errors.Is(err, taskqueue.ErrTaskAlreadyAdded))
	// Output:
	// report-42 POST /_ah/queue/go/delay
	// true
}

var attempts = make(chan string, 3)

var flakyFunc = delay.Func("flaky", func(ctx context.Context) error {
	h, err := delay.RequestHeaders(ctx)
	if err != nil {
		return err
	}
	attempts <- fmt.Sprintf("queue %s, retry %d", h.QueueName, h.TaskRetryCount)
	if h.TaskRetryCount == 0 {
		return errors.New("try again") // a failed attempt: the task is retried
	}
	return nil
})

func ExampleRequestHeaders() {
	client, closeRedis := exampleClient()
	defer closeRedis()
	ctx := taskqueue.WithClient(context.Background(), client)

	t, _ := flakyFunc.Task()
	t.RetryOptions = &taskqueue.RetryOptions{MinBackoff: time.Millisecond}
	if _, err := taskqueue.Add(ctx, t, ""); err != nil {
		fmt.Println("add:", err)
		return
	}
	stop := runWorker(worker.Config{Client: client})
	defer stop()
	fmt.Println(<-attempts)
	fmt.Println(<-attempts)

	_, err := delay.RequestHeaders(ctx)
	fmt.Println(err)
	// Output:
	// queue default, retry 0
	// queue default, retry 1
	// request headers are only available inside a delay.Func
}

var charged = make(chan int, 1)

var chargeFunc = delay.Func("charge", func(ctx context.Context, cents int) error {
	charged <- cents
	if cents <= 0 {
		// Retrying cannot help: the task is dead at once.
		return delay.Permanent(fmt.Errorf("charge of %d cents", cents))
	}
	return nil
})

func ExamplePermanent() {
	client, closeRedis := exampleClient()
	defer closeRedis()
	ctx := taskqueue.WithClient(context.Background(), client)

	if err := chargeFunc.Call(ctx, -5); err != nil {
		fmt.Println("call:", err)
		return
	}
	stop := runWorker(worker.Config{Client: client})
	<-charged
	stop() // waits until the worker has recorded the outcome
	dead, err := client.DeadTasks(ctx, "default", 0, 10)
	if err != nil {
		fmt.Println("dead tasks:", err)
		return
	}
	fmt.Println(len(dead), dead[0].Attempts, strings.HasSuffix(dead[0].LastError, "charge of -5 cents"))
	// Output: 1 1 true
}

var pushed = make(chan string, 1)

var pushFunc = delay.Func("push", func(ctx context.Context, msg string) { pushed <- msg })

// Over HTTP, the app serves delay's handler behind the signature check, and the worker
// signs its deliveries with the same secret.
func ExampleHandler() {
	client, closeRedis := exampleClient()
	defer closeRedis()
	ctx := taskqueue.WithClient(context.Background(), client)
	secret := []byte("shared secret")

	mux := http.NewServeMux()
	mux.Handle(delay.Path, taskqueue.RequireSignature(secret, delay.Handler()))
	app := httptest.NewServer(mux)
	defer app.Close()

	if err := pushFunc.Call(ctx, "delivered over HTTP"); err != nil {
		fmt.Println("call:", err)
		return
	}
	stop := runWorker(worker.Config{Client: client, Target: app.URL, Secret: secret})
	defer stop()
	fmt.Println(<-pushed)
	// Output: delivered over HTTP
}
