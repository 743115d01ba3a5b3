package httpapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/redelay/redelay/httpapi"
	"github.com/redelay/redelay/taskqueue"
)

// A program in any language adds a task with one POST and reads its status with one GET.
func Example() {
	mr, _ := miniredis.Run()
	defer mr.Close()
	client := taskqueue.NewClient(redis.NewClient(&redis.Options{Addr: mr.Addr()}),
		&taskqueue.Config{Logger: slog.New(slog.DiscardHandler)})

	api, err := httpapi.New(httpapi.Config{Client: client, APIKeys: []string{"s3cret"}})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(api)
	defer srv.Close()

	call := func(method, path, body string) (int, map[string]any) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer s3cret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var v map[string]any
		_ = json.Unmarshal(b, &v)
		return resp.StatusCode, v
	}

	code, task := call("POST", "/v1/queues/mail/tasks",
		`{"name": "welcome-42", "path": "/send", "body": "{\"to\": 42}", "delay": "1h"}`)
	fmt.Println(code, task["name"], task["method"], task["path"])

	code, status := call("GET", "/v1/queues/mail/tasks/welcome-42", "")
	fmt.Println(code, status["state"])

	code, bad := call("POST", "/v1/queues/mail/tasks", `{"delay": "soon"}`)
	fmt.Println(code, bad["error"])
	// Output:
	// 201 welcome-42 POST /send
	// 200 waiting
	// 400 delay: "soon" is neither a duration such as "10s" or "1m30s" nor a number of seconds
}
