package taskqueue

import (
	"math/rand/v2"
	"sync"
	"time"
)

// base62 in ASCII order, so generated names sort by time as strings.
const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// nameGen makes 20-character task names: 9 characters of milliseconds since the epoch and
// 11 of a random number that counts up within one millisecond, so names made by one process
// are strictly increasing and names made anywhere sort by creation time.
var nameGen struct {
	sync.Mutex
	ms   int64
	rand uint64
}

func newName(now time.Time) string {
	ms := now.UnixMilli()
	nameGen.Lock()
	if ms <= nameGen.ms {
		ms = nameGen.ms
		nameGen.rand++
	} else {
		nameGen.ms = ms
		nameGen.rand = rand.Uint64() >> 1 // room to count up without wrapping
	}
	r := nameGen.rand
	nameGen.Unlock()

	var b [20]byte
	for i := 8; i >= 0; i-- {
		b[i] = base62[ms%62]
		ms /= 62
	}
	for i := 19; i >= 9; i-- {
		b[i] = base62[r%62]
		r /= 62
	}
	return string(b[:])
}
