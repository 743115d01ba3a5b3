package workercmd

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/alicebob/miniredis/v2"
)

// startDev starts dev mode's embedded Redis at cfg.DevAddr, points cfg at it, generates a
// secret when push mode has none, and tells the user on w.
func startDev(cfg *Config, w io.Writer) (*miniredis.Miniredis, error) {
	mr := miniredis.NewMiniRedis()
	if err := mr.StartAddr(cfg.DevAddr); err != nil {
		return nil, fmt.Errorf("dev mode: embedded Redis cannot listen on %s (is a Redis already there? use -dev-addr): %w", cfg.DevAddr, err)
	}
	cfg.RedisURL = "redis://" + mr.Addr() + "/0"
	generated := false
	if cfg.Target != "" && len(cfg.Secret) == 0 {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		cfg.Secret = []byte(hex.EncodeToString(b))
		generated = true
	}
	fmt.Fprintf(w, `redelay worker: DEV MODE
  An embedded in-memory Redis (miniredis) listens on %s.
  Apps on this machine enqueue with REDIS_URL=%s
  NOTHING IS KEPT: every task is lost when this process stops. Do not use -dev in production.
`, mr.Addr(), cfg.RedisURL)
	if generated {
		fmt.Fprintf(w, `  No -secret given: deliveries to %s are signed with this generated one,
  for the app's taskqueue.RequireSignature (it changes at every start):
  REDELAY_SECRET=%s
`, cfg.Target, cfg.Secret)
	}
	return mr, nil
}
