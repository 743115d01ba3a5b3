package httpapi

import (
	_ "embed"
	"net/http"
)

// openAPIDoc is the OpenAPI 3 description of the API, kept in openapi.json.
//
//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI returns the OpenAPI 3 description of the API (JSON), as GET /v1/openapi.json
// serves it.
func OpenAPI() []byte { return append([]byte(nil), openAPIDoc...) }

// GET /v1/openapi.json
func (a *api) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPIDoc)
	return nil
}
