package broker

import "strconv"

// queueKeys names every Redis key of one queue. All of them share the hash tag {queue},
// so a queue lives in one Redis Cluster slot and every script can name all its keys.
type queueKeys struct {
	tasks    string // hash: name -> "<dispatches>;<due ms>;<envelope>"
	ready    string // list: push tasks that are due, in the order they became due
	push     string // sorted set: push tasks due later -> due time (ms)
	pull     string // sorted set: pull task name -> due time (ms); a leased one's is its lease expiry
	inflight string // sorted set: leased push task name -> lease expiry (ms)
	tombs    string // sorted set: finished or deleted task name -> end of its tombstone (ms)
	tags     string // hash: pull task name -> tag (tagged pull tasks only)
	dead     string // hash: dead task name -> final envelope
	deadIdx  string // sorted set: dead task name -> time of death (ms)
	wake     string // list: holds one element while idle workers should look at the push index
	idem     string // hash: idempotency key -> task name
	idemIdx  string // sorted set: idempotency key -> end of its lifetime (ms)
	prefix   string // "<prefix>:{<queue>}:" for keys built from a time, such as counters
}

// maxKeptQueues bounds the queues whose keys a Broker keeps built.
const maxKeptQueues = 10_000

// keys returns the keys of queue, built on a queue's first use and kept (for up to
// maxKeptQueues queues): every script call names them.
func (b *Broker) keys(queue string) queueKeys {
	if k, ok := b.names.Load(queue); ok {
		return *k.(*queueKeys)
	}
	k := b.buildKeys(queue)
	if b.named.Load() < maxKeptQueues {
		if _, loaded := b.names.LoadOrStore(queue, &k); !loaded {
			b.named.Add(1)
		}
	}
	return k
}

func (b *Broker) buildKeys(queue string) queueKeys {
	p := b.prefix + ":{" + queue + "}:"
	return queueKeys{
		tasks:    p + "t",
		ready:    p + "q",
		push:     p + "s",
		pull:     p + "l",
		inflight: p + "f",
		tombs:    p + "x",
		tags:     p + "g",
		dead:     p + "d",
		deadIdx:  p + "di",
		wake:     p + "w",
		idem:     p + "i",
		idemIdx:  p + "ii",
		prefix:   p,
	}
}

// executedBucketWidth is the width of one executed-tasks counter; QueueStats sums the last
// executedBuckets of them to report the tasks executed in the last minute.
const (
	executedBucketWidth = 10_000 // ms
	executedBuckets     = 6
)

func (k queueKeys) executed(nowMs int64) string {
	return k.prefix + "n:" + strconv.FormatInt(nowMs/executedBucketWidth, 10)
}

// finished is the Pub/Sub channel announcing the queue's finished tasks. It is not a key:
// scripts get it in ARGV.
func (k queueKeys) finished() string { return k.prefix + "finished" }

// Records of succeeded tasks live in one hash per time bucket, which expires as a whole:
// no per-record index to keep or trim. A record lives at least its lifetime and at most
// one bucket width longer.
func recordBucketWidth(recordMs int64) int64 { return max(3_600_000, recordMs/24) }

// records returns the record hash of the bucket holding time ms.
func (k queueKeys) records(ms, recordMs int64) string {
	return k.prefix + "r:" + strconv.FormatInt(ms/recordBucketWidth(recordMs), 10)
}

// recordKeys returns the record hashes that may hold a record made within recordMs before
// now, newest first.
func (k queueKeys) recordKeys(now, recordMs int64) []string {
	if recordMs <= 0 {
		return nil
	}
	width := recordBucketWidth(recordMs)
	var keys []string
	for b := now / width; b >= (now-recordMs)/width-1 && b >= 0; b-- {
		keys = append(keys, k.prefix+"r:"+strconv.FormatInt(b, 10))
	}
	return keys
}
