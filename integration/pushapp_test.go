package integration

import (
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
)

// TestPushAppStack runs the docker-compose stack without Docker: the example app
// (examples/pushapp) and the worker binary in push mode on one Redis. A request to the app
// queues a delay function call, which the worker delivers back to the app, signed.
func TestPushAppStack(t *testing.T) {
	t.Parallel()
	w := sharedRedis(t)
	const secret = "pushapp-secret"
	addr := freeAddr(t)
	app := startProc(t, "pushapp", bins.pushapp,
		[]string{"REDIS_URL=" + w.url, "REDELAY_PREFIX=" + w.prefix, "REDELAY_SECRET=" + secret, "ADDR=" + addr})
	app.out.wait(t, "pushapp listens", func(s string) bool { return strings.Contains(s, "pushapp listening") }, app.done)
	wk := startWorker(t, "worker", w.workerArgs("http://"+addr, secret)...)

	resp, err := http.PostForm("http://"+addr+"/greet", url.Values{"name": {"Gopher"}})
	if err != nil {
		t.Fatalf("POST /greet: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /greet: status %d", resp.StatusCode)
	}
	app.out.wait(t, "the app runs the delayed greeting", func(s string) bool {
		return strings.Contains(s, "greeted name=Gopher")
	}, app.done)
	waitEmpty(t, w.client, "default")

	// The app refuses deliveries the worker did not sign.
	resp, err = http.Post("http://"+addr+"/_ah/queue/go/delay", "application/octet-stream", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned delivery to the app: status %d, want 401", resp.StatusCode)
	}

	for _, p := range []*proc{wk, app} {
		p.signal(t, syscall.SIGTERM)
		if code := p.exit(t, within); code != 0 {
			t.Errorf("%s exit code %d after SIGTERM, want 0", p.name, code)
		}
	}
}
