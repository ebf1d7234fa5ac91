package kafka

import (
	"sync"

	kafkago "github.com/segmentio/kafka-go"
)

// committer sends one generation's offset commits, merging those of all
// its claims into as few OffsetCommit requests as possible, one in flight
// at a time.
//
// Why: every claim of a generation commits through the same coordinator
// connection. Sent separately, a detector's 24 partitions commit at the
// same moment once a second; kafka-go's waitResponse then has each waiting
// goroutine take the read lock, peek at a response that is not its own and
// let go, over and over (a tenth of the detector's CPU at 20,000 events/s,
// docs/PERFORMANCE.md "Alert latency"), and each partition's processing
// waits for its own round trip. Merged, one request carries every
// partition's offset, and Claim.CommitAsync lets a partition go on
// processing while it is in flight.
type committer struct {
	g   *groupRunner
	gen *kafkago.Generation

	mu      sync.Mutex
	pending map[string]map[int]int64 // the next request's offsets
	round   *commitRound             // the round that will send pending
	sending bool                     // a goroutine is sending rounds
}

// commitRound is one OffsetCommit request; done is closed once it is
// answered, and err is its outcome: one partition refused fails the round
// for every claim in it, which is conservative (a claim whose offset was in
// fact stored commits it again next time).
type commitRound struct {
	done chan struct{}
	err  error
}

func newCommitter(g *groupRunner, gen *kafkago.Generation) *committer {
	return &committer{g: g, gen: gen}
}

// add queues offset next for topic/partition (a larger one queued before
// it for the same partition wins) and returns the round that will send it.
func (c *committer) add(topic string, partition int, next int64) *commitRound {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil {
		c.pending = map[string]map[int]int64{}
		c.round = &commitRound{done: make(chan struct{})}
	}
	parts := c.pending[topic]
	if parts == nil {
		parts = map[int]int64{}
		c.pending[topic] = parts
	}
	if next > parts[partition] {
		parts[partition] = next
	}
	r := c.round
	if !c.sending {
		c.sending = true
		go c.send()
	}
	return r
}

// send sends the pending rounds one after the other until none is left.
// Rounds are sequential, so a partition's later (larger) offset never
// reaches the coordinator before an earlier one.
func (c *committer) send() {
	for {
		c.mu.Lock()
		if c.pending == nil {
			c.sending = false
			c.mu.Unlock()
			return
		}
		offsets, r := c.pending, c.round
		c.pending, c.round = nil, nil
		c.mu.Unlock()
		r.err = c.g.commit(c.gen, offsets)
		close(r.done)
	}
}
