package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// parseDuration reads a duration written as Go does ("1m30s", "250ms") or as a number of
// seconds ("90", "1.5").
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return secondsDuration(f)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is neither a duration such as \"10s\" or \"1m30s\" nor a number of seconds", clip(s))
	}
	return d, nil
}

func secondsDuration(f float64) (time.Duration, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > math.MaxInt64/1e9 {
		return 0, fmt.Errorf("%g seconds is out of range", f)
	}
	return time.Duration(f * 1e9), nil
}

// jsonDuration reads a duration given in JSON as a string parseDuration accepts or as a
// number of seconds. It reports false when raw is absent or null.
func jsonDuration(raw json.RawMessage) (time.Duration, bool, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false, nil
	}
	var s string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, true, err
		}
		d, err := parseDuration(s)
		return d, true, err
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		return 0, true, fmt.Errorf("expected a duration such as \"10s\" or a number of seconds, got %s", clip(string(raw)))
	}
	d, err := secondsDuration(f)
	return d, true, err
}

// queryDuration reads the duration of query parameter name of r, bounded by limit. It
// reports false when the parameter is absent.
func queryDuration(r *http.Request, name string, limit time.Duration) (time.Duration, bool, error) {
	vs, ok := r.URL.Query()[name]
	if !ok {
		return 0, false, nil
	}
	if len(vs) != 1 {
		return 0, true, badRequest("?%s= is given %d times", name, len(vs))
	}
	d, err := parseDuration(vs[0])
	switch {
	case err != nil:
		return 0, true, badRequest("?%s=: %v", name, err)
	case d < 0:
		return 0, true, badRequest("?%s=: negative duration %s", name, d)
	case d > limit:
		return 0, true, badRequest("?%s=: %s is over the limit of %s", name, d, limit)
	}
	return d, true, nil
}

// headerValues is a header's value in JSON: a string or an array of strings.
type headerValues []string

func (h *headerValues) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*h = headerValues{s}
		return nil
	}
	var ss []string
	if err := json.Unmarshal(b, &ss); err == nil {
		*h = ss
		return nil
	}
	return errors.New("headers: each value must be a string or an array of strings")
}

// checkHeader reports what is wrong with a header name or its values, if anything.
func checkHeader(name string, values []string) error {
	if name == "" {
		return errors.New("empty header name")
	}
	for _, c := range []byte(name) {
		if !isTokenChar(c) {
			return fmt.Errorf("header name %q has the character %q, not allowed in HTTP header names", clip(name), c)
		}
	}
	for _, v := range values {
		for _, c := range []byte(v) {
			if (c < ' ' && c != '\t') || c == 0x7f {
				return fmt.Errorf("header %s has a control character in its value", name)
			}
		}
	}
	return nil
}

// isTokenChar reports whether c may appear in an HTTP token (RFC 9110).
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// checkCallbackURL reports what is wrong with a callback URL, if anything.
func checkCallbackURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %v", clip(s), errors.Unwrap(err))
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http:// or https:// URL", clip(s))
	}
	return nil
}

// clip shortens a bad value quoted in an error message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:61] + "..."
	}
	return s
}
