package httpapi

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redelay/redelay/taskqueue"
)

// Defaults of Config.
const (
	// DefaultInvokeTimeout is how long a sync invoke waits for the target's answer when the
	// request has no ?timeout=.
	DefaultInvokeTimeout = 30 * time.Second
	// DefaultMaxWait is Config.MaxWait when left zero.
	DefaultMaxWait = 10 * time.Minute
)

// MaxBatchTasks is the most tasks one POST .../tasks:batch may add.
const MaxBatchTasks = 1000

// maxInvokeLevels is how many path levels an invoke may name after /invoke/.
const maxInvokeLevels = 4

// Config configures the handler New returns.
type Config struct {
	// Client adds and inspects the tasks. Required.
	Client *taskqueue.Client
	// APIKeys are the keys a request may present as "Authorization: Bearer <key>". With no
	// key, every request gets 401. An empty key is an error.
	APIKeys []string
	// Queues are the queues GET /v1/queues reports when the request names none
	// (?queue=a&queue=b). nil means {"default"}.
	Queues []string
	// MaxBodyBytes is the largest request body accepted; a larger one gets 400. Default: room
	// for a task payload of the client's MaxPayloadBytes encoded as base64 in JSON, plus
	// 64 KiB.
	MaxBodyBytes int64
	// InvokeTimeout is how long a sync invoke waits when the request has no ?timeout=.
	// Default DefaultInvokeTimeout.
	InvokeTimeout time.Duration
	// MaxWait caps ?wait= of GET .../tasks/{name} and ?timeout= of invoke; a larger value
	// gets 400. Default DefaultMaxWait.
	MaxWait time.Duration
	// Logger receives the errors answered with 5xx. Default: the client's logger.
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.Client == nil {
		return c, errors.New("httpapi: Client: required")
	}
	if c.Queues == nil {
		c.Queues = []string{"default"}
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = int64(c.Client.Config().MaxPayloadBytes)*4/3 + 64<<10
	}
	if c.InvokeTimeout == 0 {
		c.InvokeTimeout = DefaultInvokeTimeout
	}
	if c.MaxWait == 0 {
		c.MaxWait = DefaultMaxWait
	}
	if c.Logger == nil {
		c.Logger = c.Client.Config().Logger
	}
	return c, c.validate()
}

func (c Config) validate() error {
	for i, k := range c.APIKeys {
		if k == "" {
			return fmt.Errorf("httpapi: APIKeys[%d]: empty key", i)
		}
	}
	for _, q := range c.Queues {
		if q == "" {
			return errors.New(`httpapi: Queues: empty queue name (use "default")`)
		}
		if err := taskqueue.ValidateQueueName(q); err != nil {
			return fmt.Errorf("httpapi: Queues: %w", err)
		}
	}
	switch {
	case c.MaxBodyBytes < 0:
		return fmt.Errorf("httpapi: MaxBodyBytes: negative %d", c.MaxBodyBytes)
	case c.InvokeTimeout < 0:
		return fmt.Errorf("httpapi: InvokeTimeout: negative %s", c.InvokeTimeout)
	case c.MaxWait < 0:
		return fmt.Errorf("httpapi: MaxWait: negative %s", c.MaxWait)
	case c.InvokeTimeout > c.MaxWait:
		return fmt.Errorf("httpapi: InvokeTimeout: %s is more than MaxWait %s", c.InvokeTimeout, c.MaxWait)
	case c.Client.Config().ResultTTL < 0:
		return errors.New("httpapi: Client: its ResultTTL is negative, so it keeps no status of finished tasks, which invoke and GET .../tasks/{name} need")
	}
	return nil
}
