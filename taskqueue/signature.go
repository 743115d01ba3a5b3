package taskqueue

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// HeaderSignature carries the signature of an HTTP delivery:
// "t=<unix seconds>,v1=<hex HMAC-SHA256>[,v1=<hex>…]" (one v1 per signing key, so keys can
// be rotated: sign with old and new, then drop the old from the receivers).
const HeaderSignature = "X-Redelay-Signature"

// SignatureMaxAge is how old a signed delivery may be before RequireSignature refuses it as
// a replay.
const SignatureMaxAge = 5 * time.Minute

// signedHeaders are the task headers covered by a signature, so a captured delivery cannot
// be replayed with other task headers.
var signedHeaders = []string{
	HeaderQueueName, HeaderTaskName, HeaderTaskRetryCount, HeaderTaskExecutionCount,
	HeaderTaskETA, HeaderTaskPreviousResponse, HeaderTaskRetryReason,
}

func signature(secret []byte, ts string, method, uri string, h http.Header, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	io.WriteString(m, ts+"\n"+method+"\n"+uri+"\n")
	for _, name := range signedHeaders {
		io.WriteString(m, h.Get(name)+"\n")
	}
	m.Write(body)
	return m.Sum(nil)
}

// SignRequest signs an outgoing delivery r, whose body is body, with each secret at time now.
// The worker calls it for every HTTP delivery.
func SignRequest(r *http.Request, body []byte, now time.Time, secrets ...[]byte) {
	ts := strconv.FormatInt(now.Unix(), 10)
	var b strings.Builder
	b.WriteString("t=" + ts)
	for _, s := range secrets {
		b.WriteString(",v1=" + hex.EncodeToString(signature(s, ts, r.Method, r.URL.RequestURI(), r.Header, body)))
	}
	r.Header.Set(HeaderSignature, b.String())
}

// VerifyRequest checks the signature of r against any of secrets at time now, and returns
// r's body (which it reads). It reports false for a missing, malformed, forged, wrongly-keyed
// or stale (older or newer than SignatureMaxAge) signature.
func VerifyRequest(r *http.Request, now time.Time, secrets ...[]byte) ([]byte, bool) {
	var body []byte
	if r.Body != nil {
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, maxSignedBody))
		if err != nil {
			return nil, false
		}
	}
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(r.Header.Get(HeaderSignature), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			if s, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, s)
			}
		}
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return body, false
	}
	if age := now.Sub(time.Unix(secs, 0)); age > SignatureMaxAge || age < -SignatureMaxAge {
		return body, false
	}
	for _, secret := range secrets {
		if len(secret) == 0 {
			continue
		}
		want := signature(secret, ts, r.Method, r.URL.RequestURI(), r.Header, body)
		for _, s := range sigs {
			if hmac.Equal(s, want) {
				return body, true
			}
		}
	}
	return body, false
}

// RequireSignature guards next so that only deliveries signed with secret reach it: a
// missing, forged, wrongly-keyed or replayed (older than SignatureMaxAge) delivery gets
// 401 and next never runs. Use RequireSignatureKeys to accept several keys while rotating.
func RequireSignature(secret []byte, next http.Handler) http.Handler {
	return RequireSignatureKeys([][]byte{secret}, next)
}

// RequireSignatureKeys is RequireSignature accepting a delivery signed with any of secrets.
func RequireSignatureKeys(secrets [][]byte, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := VerifyRequest(r, time.Now(), secrets...)
		if !ok {
			http.Error(w, "redelay: missing or invalid delivery signature", http.StatusUnauthorized)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// maxSignedBody bounds the body VerifyRequest reads.
const maxSignedBody = 64 << 20
