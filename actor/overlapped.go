package actor

import (
	"context"
	"sync"

	"go.uber.org/atomic"
)

// Overlapped is the handle of one outstanding send, the WSAOVERLAPPED
// analogue. A goroutine waits on it (Done, Wait) and reads its result
// (Result), like WSAWaitForMultipleEvents and WSAGetOverlappedResult.
//
// One Overlapped serves one send at a time: submitting it again while its
// send is pending fails with ErrInvalid and nothing is sent. Once the send has
// completed it may be reused; each submission starts a new operation.
//
// The zero value is ready to use. An Overlapped must not be copied after
// first use.
type Overlapped struct {
	// Context is the caller's own value (the hEvent slot that completion
	// routines use for context). overlap never touches it.
	Context any

	state atomic.Int32  // ovIdle, ovPending, ovDone; owned by the submitter until pending, then by the socket
	mu    sync.Mutex    // guards done, bytes and err across one operation
	done  chan struct{} // made by the first Done of a pending operation; nil otherwise (complete clears it)
	bytes int
	err   error
}

const (
	ovIdle int32 = iota
	ovPending
	ovDone
)

// arm moves o to pending for a new operation. It fails with ErrInvalid when
// o's previous send has not completed. It allocates nothing: the channel
// Done returns is made only if someone asks for it before the operation
// completes (a send that completes first costs no channel).
func (o *Overlapped) arm() error {
	for {
		s := o.state.Load()
		if s == ovPending {
			return ErrInvalid
		}
		if o.state.CompareAndSwap(s, ovPending) {
			// Nothing else to reset: complete left done nil (a waiter's
			// Done from now on makes this operation's channel), and bytes
			// and err are read only once the state is done again.
			return nil
		}
	}
}

// complete records the result and wakes waiters. The socket calls it exactly
// once per armed operation.
func (o *Overlapped) complete(n int, err error) {
	o.mu.Lock()
	o.bytes, o.err = n, err
	done := o.done
	o.done = nil // the next operation's waiters make their own; Done now returns closedChan
	o.state.Store(ovDone)
	o.mu.Unlock()
	if done != nil {
		close(done)
	}
}

// closedChan is what Done returns for an operation that completed before
// anyone asked for its channel.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// Pending reports whether o's send has been submitted and not completed.
func (o *Overlapped) Pending() bool { return o.state.Load() == ovPending }

// Done returns a channel that is closed when the current operation
// completes. It returns nil before the first submission.
func (o *Overlapped) Done() <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.done != nil {
		return o.done
	}
	switch o.state.Load() { // once: arm may change it meanwhile, complete may not (it holds mu)
	case ovPending:
		o.done = make(chan struct{})
		return o.done
	case ovDone:
		return closedChan
	}
	return nil // never submitted
}

// Result returns the bytes sent and the error of the last completed
// operation; done is false while it is still pending (or never submitted).
func (o *Overlapped) Result() (n int, err error, done bool) {
	if o.state.Load() != ovDone {
		return 0, nil, false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.bytes, o.err, true
}

// Wait blocks until the current operation completes or ctx ends, and returns
// its result. A ctx that ends first returns ctx's error and leaves the send
// running: waiting is not cancelling. Wait on an Overlapped never submitted
// returns ErrInvalid.
func (o *Overlapped) Wait(ctx context.Context) (int, error) {
	done := o.Done()
	if done == nil {
		return 0, ErrInvalid
	}
	select {
	case <-done:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	n, err, _ := o.Result()
	return n, err
}
