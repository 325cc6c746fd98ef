package actor

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// Clause 8: a goroutine that sees a send pending and waits on its
// Overlapped is woken by the completion, however its Done races with the
// submission that armed the Overlapped. (With Done's channel made lazily,
// arm used to reset the channel after its state change, throwing away one
// that a waiter had made in between: that waiter slept forever.)
func TestClause8WaitRacingArm(t *testing.T) {
	const rounds = 100000
	var ov Overlapped
	var completed atomic.Int64 // rounds completed
	woke := make(chan error)
	for i := int64(0); i < rounds; i++ {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
			defer cancel()
			for completed.Load() == i { // until this round's operation is over
				if ov.Pending() {
					_, err := ov.Wait(ctx)
					woke <- err
					return
				}
			}
			woke <- nil // it missed the pending window: nothing to wait for
		}()
		if err := ov.arm(); err != nil {
			t.Fatal(err)
		}
		ov.complete(int(i), nil)
		completed.Store(i + 1)
		select {
		case err := <-woke:
			if err != nil {
				t.Fatalf("round %d: Wait = %v: the completion did not wake it", i, err)
			}
		case <-time.After(2 * testDeadline):
			t.Fatalf("round %d: the waiter never returned", i)
		}
	}
}
