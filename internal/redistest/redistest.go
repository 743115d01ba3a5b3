// Package redistest gives tests a Redis of their own: a fresh miniredis per test, and the
// real Redis named by REDIS_URL with a key prefix of the test's own.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Miniredis starts a miniredis for t, stopped when t ends, and returns the server and a
// client of it.
func Miniredis(t testing.TB) (*miniredis.Miniredis, redis.UniversalClient) {
	t.Helper()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	return mr, rdb
}

// Real returns a client of the Redis at REDIS_URL, or skips t, saying so, when REDIS_URL is
// not set.
func Real(t testing.TB) redis.UniversalClient {
	t.Helper()
	url := os.Getenv("REDIS_URL")
	if url == "" {
		t.Skip("skipped: REDIS_URL is not set, so this real-Redis test did not run (bash .ci/run starts a redis-server and sets it)")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("REDIS_URL: %v", err)
	}
	rdb := redis.NewClient(opt)
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("REDIS_URL=%s does not answer: %v", url, err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// Prefix returns a key prefix no other test uses, so tests can share a real Redis and run in
// parallel. Its keys are removed when t ends.
func Prefix(t testing.TB, rdb redis.UniversalClient) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	p := "redelaytest:" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, p+":*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		for _, k := range keys {
			rdb.Unlink(ctx, k)
		}
	})
	return p
}

// Backend is one Redis a test runs against.
type Backend struct {
	Name   string // "miniredis" or "redis"
	Client redis.UniversalClient
	Prefix string
	Mini   *miniredis.Miniredis // nil for real Redis
}

// Each runs fn as a parallel subtest on a fresh miniredis and, when REDIS_URL is set, on real
// Redis; without REDIS_URL the real-Redis subtest is reported as skipped.
func Each(t *testing.T, fn func(t *testing.T, b Backend)) {
	t.Helper()
	t.Run("miniredis", func(t *testing.T) {
		t.Parallel()
		mr, rdb := Miniredis(t)
		fn(t, Backend{Name: "miniredis", Client: rdb, Prefix: Prefix(t, rdb), Mini: mr})
	})
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		rdb := Real(t)
		fn(t, Backend{Name: "redis", Client: rdb, Prefix: Prefix(t, rdb)})
	})
}
