package workercmd

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// go-redis reports failed dials itself, through a logger of its own that is global to the
// process. The command sends those reports to its logger at level debug: the worker logs
// Redis outages once, in its own words.
var (
	redisLogOnce sync.Once
	redisLog     redisLogger
)

type redisLogger struct{ log atomic.Pointer[slog.Logger] }

func (l *redisLogger) Printf(ctx context.Context, format string, args ...any) {
	if log := l.log.Load(); log != nil {
		log.DebugContext(ctx, "redis client", "detail", strings.TrimSpace(fmt.Sprintf(format, args...)))
	}
}

func useRedisLogger(log *slog.Logger) {
	redisLog.log.Store(log)
	redisLogOnce.Do(func() { redis.SetLogger(&redisLog) })
}
