package workercmd

import (
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/redelay/redelay/httpapi"
)

// apiKeys is the repeatable -api-key flag; its variable REDELAY_API_KEYS is comma-separated.
type apiKeys []string

func (k *apiKeys) String() string { return fmt.Sprintf("%d keys", len(*k)) }

func (k *apiKeys) Set(v string) error {
	for key := range strings.SplitSeq(v, ",") {
		if key = strings.TrimSpace(key); key != "" {
			*k = append(*k, key)
		}
	}
	return nil
}

// APIExtension serves the HTTP API of package httpapi under /v1 on the -http listener,
// for the keys given with -api-key (repeatable) or REDELAY_API_KEYS (comma-separated).
// With no key every /v1 request gets 401; in dev mode a key is generated and printed on
// notices.
func APIExtension(notices io.Writer) Extension {
	var keys apiKeys
	return Extension{
		Flags: func(fs *flag.FlagSet) map[string]string {
			fs.Var(&keys, "api-key", "a bearer key of the HTTP API under /v1 (repeatable; REDELAY_API_KEYS takes several, comma-separated)")
			return map[string]string{"api-key": "REDELAY_API_KEYS"}
		},
		Mount: func(mux *http.ServeMux, rt Runtime) error {
			if rt.Config.Dev && len(keys) == 0 {
				b := make([]byte, 16)
				_, _ = rand.Read(b)
				keys = apiKeys{hex.EncodeToString(b)}
				fmt.Fprintf(notices, "  HTTP API on %s/v1, with the generated key: Authorization: Bearer %s\n", rt.Config.HTTPAddr, keys[0])
			}
			if len(keys) == 0 {
				rt.Logger.Info("HTTP API under /v1 refuses every request: no -api-key given")
			}
			queues := make([]string, 0, len(rt.Config.Queues))
			for q := range rt.Config.Queues {
				queues = append(queues, q)
			}
			slices.Sort(queues)
			h, err := httpapi.New(httpapi.Config{Client: rt.Client, APIKeys: keys, Queues: queues, Logger: rt.Logger})
			if err != nil {
				return err
			}
			mux.Handle("/v1/", h)
			return nil
		},
	}
}
