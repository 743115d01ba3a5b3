package taskqueue

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redelay/redelay/internal/broker"
)

// Defaults of Config.
const (
	DefaultKeyPrefix    = "redelay"
	DefaultTombstoneTTL = time.Hour
	DefaultResultTTL    = 24 * time.Hour
	DefaultRedisURL     = "redis://127.0.0.1:6379/0"
)

// Config configures a Client. The zero value is ready to use.
type Config struct {
	// KeyPrefix starts every Redis key the client uses. Default DefaultKeyPrefix.
	KeyPrefix string
	// TombstoneTTL is how long a name chosen by the caller stays taken after its task ended
	// or was deleted. Default DefaultTombstoneTTL.
	TombstoneTTL time.Duration
	// MaxPayloadBytes is the largest Payload Add accepts. Default DefaultMaxPayloadBytes.
	MaxPayloadBytes int
	// ResultTTL is how long the status and result of a succeeded task are kept (see
	// Status). Default DefaultResultTTL; a negative value keeps none, which saves Redis
	// memory and work when nobody asks.
	ResultTTL time.Duration
	// Logger receives the client's and its workers' logs. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock every time stored in Redis comes from. Default time.Now.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.KeyPrefix == "" {
		c.KeyPrefix = DefaultKeyPrefix
	}
	if c.TombstoneTTL <= 0 {
		c.TombstoneTTL = DefaultTombstoneTTL
	}
	if c.ResultTTL == 0 {
		c.ResultTTL = DefaultResultTTL
	}
	if c.MaxPayloadBytes <= 0 {
		c.MaxPayloadBytes = DefaultMaxPayloadBytes
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Client adds, leases and inspects tasks in one Redis. It is safe for concurrent use.
type Client struct {
	cfg     Config
	b       *broker.Broker
	hubOnce sync.Once
	adds    coalescer // concurrent Adds' shared round trips
	waits   *waitHub  // Wait's shared subscription, made on first use
}

// NewClient returns a Client that keeps its tasks in rdb; a nil cfg means the defaults.
func NewClient(rdb redis.UniversalClient, cfg *Config) *Client {
	var c Config
	if cfg != nil {
		c = *cfg
	}
	c = c.withDefaults()
	return &Client{cfg: c, b: broker.New(rdb, c.KeyPrefix)}
}

// Config returns the client's configuration with its defaults filled in.
func (c *Client) Config() Config { return c.cfg }

// Redis returns the Redis client c uses.
func (c *Client) Redis() redis.UniversalClient { return c.b.Redis() }

type clientKey struct{}

// WithClient returns a context whose package-level calls (Add, Lease, …) use c.
func WithClient(ctx context.Context, c *Client) context.Context {
	return context.WithValue(ctx, clientKey{}, c)
}

var defaultClient struct {
	sync.Mutex
	c *Client
}

// SetDefaultClient makes c the client of package-level calls whose context carries none.
func SetDefaultClient(c *Client) {
	defaultClient.Lock()
	defaultClient.c = c
	defaultClient.Unlock()
}

// FromContext returns the client package-level calls use with ctx: the one WithClient put
// there, else the default one, else one made on first use from $REDIS_URL (default
// DefaultRedisURL), which then becomes the default.
func FromContext(ctx context.Context) (*Client, error) {
	if c, ok := ctx.Value(clientKey{}).(*Client); ok && c != nil {
		return c, nil
	}
	defaultClient.Lock()
	defer defaultClient.Unlock()
	if defaultClient.c == nil {
		url := os.Getenv("REDIS_URL")
		if url == "" {
			url = DefaultRedisURL
		}
		opt, err := redis.ParseURL(url)
		if err != nil {
			return nil, invalid("REDIS_URL", "%v", err)
		}
		defaultClient.c = NewClient(redis.NewClient(opt), nil)
	}
	return defaultClient.c, nil
}

func (c *Client) now() time.Time { return c.cfg.Now() }
