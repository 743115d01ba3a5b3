package worker

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/redelay/redelay/taskqueue"
)

// Defaults of Config.
const (
	DefaultConcurrency     = 50
	DefaultPrefetch        = 512
	DefaultLeaseDuration   = 30 * time.Second
	DefaultShutdownTimeout = 30 * time.Second
	DefaultDeliveryTimeout = 10 * time.Minute
)

// Config configures a Worker.
type Config struct {
	// Client is where the tasks are. nil means the default client (taskqueue.FromContext).
	Client *taskqueue.Client
	// Queues maps each queue to serve to its weight: when tasks wait in several queues, a
	// queue of weight 3 gets three times the deliveries of a queue of weight 1. nil means
	// {"default": 1}.
	Queues map[string]int
	// Concurrency is how many tasks run at once. Default DefaultConcurrency.
	Concurrency int
	// Prefetch is how many leased tasks may wait in the worker for a free runner, on top of
	// the Concurrency running ones. More means bigger lease batches and less Redis work per
	// task; with slow tasks and several workers, less spreads a backlog more evenly (waiting
	// tasks are not available to other workers until this one runs or returns them).
	// Default DefaultPrefetch; negative means none.
	Prefetch int
	// Handler receives the deliveries in-process. When both Handler and Target are empty,
	// delay.Handler() serves delay.Path (other paths get 404, a failed attempt).
	Handler http.Handler
	// Target is a base URL ("http://app:8080"): every delivery is an HTTP request to
	// Target+task path, signed with Secret. Set Handler or Target, not both.
	Target string
	// Secret is the HMAC key that signs HTTP deliveries (required with Target);
	// taskqueue.RequireSignature checks it on the receiving side.
	Secret []byte
	// HTTPClient sends HTTP deliveries. Default: a client with keep-alive connections for
	// Concurrency requests at once.
	HTTPClient *http.Client
	// LeaseDuration is how long a task is leased before another worker may run it, should
	// this one die. Leases of running tasks are extended every LeaseDuration/3. Default
	// DefaultLeaseDuration.
	LeaseDuration time.Duration
	// DeliveryTimeout is the deadline of one delivery; one that outlives it is a failed
	// attempt. Default DefaultDeliveryTimeout.
	DeliveryTimeout time.Duration
	// ShutdownTimeout is how long Run lets running tasks finish after its context ends;
	// tasks still running then go back to their queue at once. Default
	// DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// Logger receives the worker's logs. Default: the client's logger.
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.Client == nil {
		cl, err := taskqueue.FromContext(contextBackground)
		if err != nil {
			return c, fmt.Errorf("worker: Client: %w", err)
		}
		c.Client = cl
	}
	if c.Queues == nil {
		c.Queues = map[string]int{"default": 1}
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	switch {
	case c.Prefetch == 0:
		c.Prefetch = DefaultPrefetch
	case c.Prefetch < 0:
		c.Prefetch = 0
	}
	if c.LeaseDuration == 0 {
		c.LeaseDuration = DefaultLeaseDuration
	}
	if c.DeliveryTimeout == 0 {
		c.DeliveryTimeout = DefaultDeliveryTimeout
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.Logger == nil {
		c.Logger = c.Client.Config().Logger
	}
	return c, c.validate()
}

func (c Config) validate() error {
	if len(c.Queues) == 0 {
		return errors.New("worker: Queues: no queue to serve")
	}
	for q, w := range c.Queues {
		if q == "" {
			return errors.New(`worker: Queues: empty queue name (use "default")`)
		}
		if err := taskqueue.ValidateQueueName(q); err != nil {
			return fmt.Errorf("worker: Queues: %w", err)
		}
		if w < 1 {
			return fmt.Errorf("worker: Queues: weight of %q is %d, want at least 1", q, w)
		}
	}
	switch {
	case c.Concurrency < 1:
		return fmt.Errorf("worker: Concurrency: %d, want at least 1", c.Concurrency)
	case c.LeaseDuration < time.Second:
		return fmt.Errorf("worker: LeaseDuration: %s, want at least 1s", c.LeaseDuration)
	case c.DeliveryTimeout < 0:
		return fmt.Errorf("worker: DeliveryTimeout: negative %s", c.DeliveryTimeout)
	case c.ShutdownTimeout < 0:
		return fmt.Errorf("worker: ShutdownTimeout: negative %s", c.ShutdownTimeout)
	case c.Handler != nil && c.Target != "":
		return errors.New("worker: Handler and Target are both set; choose in-process or HTTP delivery")
	}
	if c.Target != "" {
		u, err := url.Parse(c.Target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("worker: Target: %q is not an http(s) base URL", c.Target)
		}
		if len(c.Secret) == 0 {
			return errors.New("worker: Secret: required with Target, to sign HTTP deliveries")
		}
	}
	return nil
}
