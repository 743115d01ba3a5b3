package worker

import (
	"context"
	"io"
	"log"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
)

type discardLogger struct{}

func (discardLogger) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	// go-redis reports failed dials itself; the outage test provokes many of them.
	redis.SetLogger(discardLogger{})
	log.SetOutput(io.Discard)
	os.Exit(m.Run())
}
