package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/redelay/redelay/taskqueue"
)

// pushSecret signs redelay's push deliveries in scenario 9.
var pushSecret = []byte("bench-push-secret")

// pushTarget is the loopback HTTP server of scenario 9: it reads each request's body and
// calls handle with it. For redelay, whose deliveries are signed, it checks the signature
// first (taskqueue.RequireSignature), as a real receiving application would.
func pushTarget(system string, handle func(payload []byte)) *httptest.Server {
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		handle(body)
	})
	if system == sysRedelay {
		h = taskqueue.RequireSignature(pushSecret, h)
	}
	return httptest.NewServer(h)
}

// poster POSTs payloads to a push target, as the handler of a system without a push mode.
type poster struct {
	client *http.Client
	url    string
}

func newPoster(target string, concurrency int) *poster {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = concurrency
	return &poster{
		client: &http.Client{Transport: tr, Timeout: 30 * time.Second},
		url:    target + "/_ah/queue/default",
	}
}

func (p *poster) post(ctx context.Context, payload []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(payload))
	if err != nil {
		return err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("push target answered %s", resp.Status)
	}
	return nil
}

func (p *poster) close() { p.client.CloseIdleConnections() }
