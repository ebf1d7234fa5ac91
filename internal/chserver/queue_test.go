package chserver

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
)

func TestQueueFIFOAndBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newQueue(3)
		if err := q.acquire(t.Context()); err != nil {
			t.Fatal(err)
		}
		var order []int
		done := make(chan struct{})
		for i := range 3 {
			go func() {
				if err := q.acquire(t.Context()); err != nil {
					t.Error(err)
					return
				}
				order = append(order, i)
				q.release()
				done <- struct{}{}
			}()
			synctest.Wait() // each waiter queues before the next starts
		}
		if err := q.acquire(t.Context()); !errors.Is(err, errQueueFull) {
			t.Fatalf("fourth waiter: %v, want errQueueFull", err)
		}
		q.release()
		for range 3 {
			<-done
		}
		if order[0] != 0 || order[1] != 1 || order[2] != 2 {
			t.Fatalf("order %v, want FIFO", order)
		}
	})
}

func TestQueueCancelledWaiterLeaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newQueue(1)
		_ = q.acquire(t.Context())
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error)
		go func() { errc <- q.acquire(ctx) }()
		synctest.Wait()
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
		if q.waiting() != 0 {
			t.Fatal("cancelled waiter still queued")
		}
		q.release()
		if err := q.acquire(t.Context()); err != nil {
			t.Fatalf("engine not free after release: %v", err)
		}
	})
}
