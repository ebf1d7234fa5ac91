package chserver

import (
	"context"
	"errors"
	"sync"
)

// errQueueFull is returned when max requests are already waiting.
var errQueueFull = errors.New("queue full")

// queue admits one request at a time to the engine, first come first
// served, with at most max waiting. Go's channels do not promise FIFO order
// to blocked senders, so waiters are kept in an explicit list.
type queue struct {
	mu      sync.Mutex
	busy    bool
	waiters []chan struct{}
	max     int
}

func newQueue(max int) *queue { return &queue{max: max} }

// acquire waits for the engine. It fails at once with errQueueFull when the
// queue is full, and with ctx's error if the client goes away while waiting.
func (q *queue) acquire(ctx context.Context) error {
	q.mu.Lock()
	if !q.busy {
		q.busy = true
		q.mu.Unlock()
		return nil
	}
	if len(q.waiters) >= q.max {
		q.mu.Unlock()
		return errQueueFull
	}
	ch := make(chan struct{})
	q.waiters = append(q.waiters, ch)
	q.mu.Unlock()

	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		q.mu.Lock()
		for i, w := range q.waiters {
			if w == ch {
				q.waiters = append(q.waiters[:i], q.waiters[i+1:]...)
				q.mu.Unlock()
				return ctx.Err()
			}
		}
		q.mu.Unlock()
		// We were handed the engine as ctx ended: pass it on.
		q.release()
		return ctx.Err()
	}
}

// release hands the engine to the next waiter, if any.
func (q *queue) release() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.waiters) == 0 {
		q.busy = false
		return
	}
	next := q.waiters[0]
	q.waiters = q.waiters[1:]
	close(next)
}

// waiting is the number of requests in the queue.
func (q *queue) waiting() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.waiters)
}
