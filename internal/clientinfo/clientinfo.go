// Package clientinfo lets redelay's own packages (the worker) reach the broker behind a
// taskqueue.Client without making it part of the public API.
package clientinfo

import (
	"log/slog"
	"time"

	"github.com/redelay/redelay/internal/broker"
)

// Info is what a worker needs of a client.
type Info struct {
	Broker       *broker.Broker
	Now          func() time.Time
	TombstoneTTL time.Duration
	ResultTTL    time.Duration // negative: keep no records
	Logger       *slog.Logger
}

// Of returns the Info of a *taskqueue.Client; package taskqueue sets it.
var Of func(client any) Info
