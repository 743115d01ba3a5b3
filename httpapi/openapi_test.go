package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// openAPIPaths returns the OpenAPI paths a route's pattern stands for: {path...} of invoke
// is up to maxInvokeLevels path parameters.
func openAPIPaths(pattern string) []string {
	prefix, ok := strings.CutSuffix(pattern, "{path...}")
	if !ok {
		return []string{pattern}
	}
	var out []string
	p := strings.TrimSuffix(prefix, "/")
	for i := 1; i <= maxInvokeLevels; i++ {
		p += "/{p" + string(rune('0'+i)) + "}"
		out = append(out, p)
	}
	return out
}

func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	t.Parallel()
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi = %q, want 3.x", doc.OpenAPI)
	}
	served := map[string]bool{}
	for _, rt := range routes() {
		for _, p := range openAPIPaths(rt.path) {
			op := strings.ToLower(rt.method)
			served[op+" "+p] = true
			if _, ok := doc.Paths[p][op]; !ok {
				t.Errorf("openapi.json does not describe %s %s (route %s)", rt.method, p, rt.path)
			}
		}
	}
	for p, item := range doc.Paths {
		for op := range item {
			switch op {
			case "summary", "description", "parameters", "servers":
				continue
			}
			if !served[op+" "+p] {
				t.Errorf("openapi.json describes %s %s, which the handler does not serve", strings.ToUpper(op), p)
			}
		}
	}
}

func TestOpenAPIReferencesResolve(t *testing.T) {
	t.Parallel()
	var doc map[string]any
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				var node any = doc
				for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
					m, _ := node.(map[string]any)
					node = m[part]
				}
				if node == nil {
					t.Errorf("$ref %s does not resolve", ref)
				}
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(doc)
}

func TestServeOpenAPI(t *testing.T) {
	t.Parallel()
	w := setup(t, Config{})
	r := w.do("GET", "/v1/openapi.json", nil).want(t, http.StatusOK)
	if !bytes.Equal(r.body, openAPIDoc) || r.header.Get("Content-Type") != "application/json" {
		t.Errorf("GET /v1/openapi.json served %d bytes of %s, want openapi.json", len(r.body), r.header.Get("Content-Type"))
	}
}
