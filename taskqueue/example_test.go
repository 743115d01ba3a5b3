package taskqueue_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/redelay/redelay/taskqueue"
)

// exampleContext returns a context whose package-level calls use a client of a fresh
// miniredis (in a program: a real Redis), and a function that stops it.
func exampleContext() (context.Context, func()) {
	mr, err := miniredis.Run()
	if err != nil {
		panic(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	c := taskqueue.NewClient(rdb, nil)
	return taskqueue.WithClient(context.Background(), c), func() { _ = rdb.Close(); mr.Close() }
}

func ExampleAdd() {
	ctx, stop := exampleContext()
	defer stop()

	// A push task: a worker POSTs id=42 to /send-welcome in about a minute.
	t := taskqueue.NewPOSTTask("/send-welcome", url.Values{"id": {"42"}})
	t.Delay = time.Minute
	added, err := taskqueue.Add(ctx, t, "emails")
	if err != nil {
		panic(err)
	}
	fmt.Println(added.Method, added.Path, string(added.Payload), added.Name != "")

	// A named task is added once.
	_, err = taskqueue.Add(ctx, &taskqueue.Task{Name: "welcome-42"}, "emails")
	fmt.Println(err)
	_, err = taskqueue.Add(ctx, &taskqueue.Task{Name: "welcome-42"}, "emails")
	fmt.Println(errors.Is(err, taskqueue.ErrTaskAlreadyAdded))

	st, _ := taskqueue.QueueStats(ctx, []string{"emails"})
	fmt.Println(st[0].Tasks, "tasks")
	// Output:
	// POST /send-welcome id=42 true
	// <nil>
	// true
	// 2 tasks
}

func ExampleAddMulti() {
	ctx, stop := exampleContext()
	defer stop()

	_, _ = taskqueue.Add(ctx, &taskqueue.Task{Name: "b"}, "")

	// One round trip. A bad task anywhere adds nothing and the MultiError says which.
	_, err := taskqueue.AddMulti(ctx, []*taskqueue.Task{{Name: "a"}, {Method: "PATCH"}}, "")
	fmt.Println(err.(taskqueue.MultiError)[1])

	// Otherwise every task is added but the duplicates.
	_, err = taskqueue.AddMulti(ctx, []*taskqueue.Task{{Name: "a"}, {Name: "b"}, {Name: "c"}}, "")
	for i, e := range err.(taskqueue.MultiError) {
		fmt.Println(i, e)
	}
	st, _ := taskqueue.QueueStats(ctx, []string{""})
	fmt.Println(st[0].Tasks, "tasks")
	// Output:
	// taskqueue: bad method "PATCH"
	// 0 <nil>
	// 1 taskqueue: task has already been added
	// 2 <nil>
	// 3 tasks
}

func ExampleLease() {
	ctx, stop := exampleContext()
	defer stop()

	for _, p := range []string{"apple", "pear"} {
		t := &taskqueue.Task{Method: "PULL", Payload: []byte(p), Tag: "fruit"}
		if _, err := taskqueue.Add(ctx, t, "pull-queue"); err != nil {
			panic(err)
		}
	}

	// Lease up to 10 tasks for 60 seconds; nobody else sees them meanwhile.
	tasks, err := taskqueue.Lease(ctx, 10, "pull-queue", 60)
	if err != nil {
		panic(err)
	}
	for _, t := range tasks {
		fmt.Println(string(t.Payload), t.Tag, t.RetryCount)
	}
	again, _ := taskqueue.Lease(ctx, 10, "pull-queue", 60)
	fmt.Println(len(again), "more")

	// Done with the first: delete it. Give the second back at once.
	_ = taskqueue.Delete(ctx, tasks[0], "pull-queue")
	_ = taskqueue.ModifyLease(ctx, tasks[1], "pull-queue", 0)
	again, _ = taskqueue.Lease(ctx, 10, "pull-queue", 60)
	fmt.Println(string(again[0].Payload), again[0].RetryCount)
	// Output:
	// apple fruit 1
	// pear fruit 1
	// 0 more
	// pear 2
}
