package actor

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/overlapio/overlap/internal/goroutines"
	"github.com/overlapio/overlap/wsabuf"
)

// runBounded runs fn on a goroutine and waits for it at most d.
func runBounded[T any](t *testing.T, d time.Duration, what string, fn func() T) T {
	t.Helper()
	ch := make(chan T, 1)
	go func() { ch <- fn() }()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("%s did not return within %v", what, d)
		var zero T
		return zero
	}
}

type nerr struct {
	n   int
	err error
}

// Clause 10 (non-blocking stream send): TrySend takes what fits now and
// reports the count, with ErrWouldBlock when short; with a send queued ahead
// it takes nothing.
func TestClause10TrySend(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)
	try := func(b string) nerr {
		return runBounded(t, testDeadline, "TrySend", func() nerr {
			n, err := h.sock.TrySend(wsabuf.Buffers{[]byte(b)}, 0)
			return nerr{n, err}
		})
	}
	if r := try("whole"); r.n != 5 || r.err != nil {
		t.Errorf("TrySend on an idle socket = (%d, %v), want (5, nil)", r.n, r.err)
	}
	h.fc.setBudget(3)
	if r := try("partial"); r.n != 3 || !errors.Is(r.err, ErrWouldBlock) {
		t.Errorf("TrySend with room for 3 = (%d, %v), want (3, ErrWouldBlock)", r.n, r.err)
	}
	h.fc.setBudget(0)
	ahead, _ := h.send(0, wsabuf.Buffers{[]byte("AHEAD")}, 0)
	h.fc.waitAwait(t)
	if r := try("none"); r.n != 0 || !errors.Is(r.err, ErrWouldBlock) {
		t.Errorf("TrySend behind a queued send = (%d, %v), want (0, ErrWouldBlock)", r.n, r.err)
	}
	h.fc.setBudget(-1)
	h.fc.writable()
	if n, err := waitOv(t, ahead); n != 5 || err != nil {
		t.Errorf("queued send (%d, %v)", n, err)
	}
	if got := string(h.fc.wireBytes()); got != "wholeparAHEAD" {
		t.Errorf("wire %q, want %q", got, "wholeparAHEAD")
	}
	if s, b := h.sock.Pending(); s != 0 || b != 0 {
		t.Errorf("Pending() = (%d, %d)", s, b)
	}
}

// Clause 10 on a datagram socket: a TrySend the socket cannot take now must
// return ErrWouldBlock, not wait for writability.
func TestClause10TrySendDatagramDoesNotWait(t *testing.T) {
	h := newHarness(t, ConnInfo{Network: "udp", Datagram: true, Connected: true, MaxMsgSize: 100}, Options{}, nil)
	h.fc.setBudget(0)
	ch := make(chan nerr, 1)
	go func() {
		n, err := h.sock.TrySend(wsabuf.Buffers{[]byte("dgram")}, 0)
		ch <- nerr{n, err}
	}()
	select {
	case r := <-ch:
		if r.n != 0 || !errors.Is(r.err, ErrWouldBlock) {
			t.Errorf("TrySend of a datagram that does not fit = (%d, %v), want (0, ErrWouldBlock)", r.n, r.err)
		}
	case <-time.After(time.Second):
		t.Errorf("BUG: TrySend on a datagram socket blocked waiting for writability (clause 10: non-blocking try)")
		h.fc.setBudget(-1)
		h.fc.writable()
		select {
		case <-ch:
		case <-time.After(testDeadline):
		}
	}
}

// Clause 10 (SO_SNDTIMEO, cancellation) and clause 20 (WSAEINPROGRESS,
// WSAEINTR): a blocking send that has not started is withdrawn (nothing
// sent) on timeout or cancellation; one that has started resets the
// connection; a second blocking send at once fails with ErrInProgress.
func TestClause10SendBlocking(t *testing.T) {
	t.Run("completes", func(t *testing.T) {
		h := newHarness(t, ConnInfo{}, Options{}, nil)
		r := runBounded(t, testDeadline, "SendBlocking", func() nerr {
			n, err := h.sock.SendBlocking(context.Background(), wsabuf.Buffers{[]byte("abc"), []byte("def")}, 0)
			return nerr{n, err}
		})
		if r.n != 6 || r.err != nil {
			t.Errorf("SendBlocking = (%d, %v), want (6, nil)", r.n, r.err)
		}
	})

	t.Run("timeout-unstarted", func(t *testing.T) {
		h := newHarness(t, ConnInfo{}, Options{SendTimeout: 30 * time.Millisecond}, nil)
		h.fc.setBudget(0)
		ahead, _ := h.send(0, wsabuf.Buffers{[]byte("AHEAD")}, 0)
		h.fc.waitAwait(t)
		r := runBounded(t, testDeadline, "SendBlocking", func() nerr {
			n, err := h.sock.SendBlocking(context.Background(), wsabuf.Buffers{[]byte("blocked")}, 0)
			return nerr{n, err}
		})
		if r.n != 0 || !errors.Is(r.err, ErrTimedOut) {
			t.Errorf("SendBlocking = (%d, %v), want (0, ErrTimedOut)", r.n, r.err)
		}
		h.fc.setBudget(-1)
		h.fc.writable()
		if n, err := waitOv(t, ahead); n != 5 || err != nil {
			t.Errorf("send ahead (%d, %v)", n, err)
		}
		h.fc.sync(t)
		if got := string(h.fc.wireBytes()); got != "AHEAD" {
			t.Errorf("wire %q: the withdrawn blocking send was written", got)
		}
		if h.fc.isClosed() {
			t.Error("withdrawing an unstarted blocking send closed the connection")
		}
	})

	t.Run("cancel-started", func(t *testing.T) {
		h := newHarness(t, ConnInfo{}, Options{}, nil)
		h.fc.setBudget(2)
		ctx, cancel := context.WithCancel(context.Background())
		ch := make(chan nerr, 1)
		go func() {
			n, err := h.sock.SendBlocking(ctx, wsabuf.Buffers{[]byte("started")}, 0)
			ch <- nerr{n, err}
		}()
		h.fc.waitAwait(t)
		// A second blocking send while the first runs.
		if _, err := h.sock.SendBlocking(context.Background(), wsabuf.Buffers{[]byte("x")}, 0); !errors.Is(err, ErrInProgress) {
			t.Errorf("second SendBlocking: %v, want ErrInProgress", err)
		}
		cancel()
		select {
		case r := <-ch:
			if r.n != 2 || !errors.Is(r.err, ErrInterrupted) || !errors.Is(r.err, context.Canceled) {
				t.Errorf("cancelled SendBlocking = (%d, %v), want (2, ErrInterrupted wrapping context.Canceled)", r.n, r.err)
			}
		case <-time.After(testDeadline):
			t.Fatal("cancelled SendBlocking did not return")
		}
		select {
		case <-h.fc.closeSig:
		case <-time.After(testDeadline):
			t.Fatal("a started blocking send was cancelled without resetting the connection")
		}
		for _, c := range h.fc.callLog() {
			if c.Op == "close" && !c.Abort {
				t.Error("the connection was closed gracefully, want a reset")
			}
		}
	})
}

// Clause 14: an Abort or Flush submitted while the event loop is inside its
// write pass (here: at the exact moment the writer parks on AwaitWritable,
// from another goroutine) must still be carried out although no Writable
// follows (a peer that stopped reading).
func TestClause14ControlWhileWriterParks(t *testing.T) {
	for _, op := range []string{"Abort", "Flush"} {
		t.Run(op, func(t *testing.T) {
			h := newHarness(t, ConnInfo{}, Options{}, nil)
			h.fc.setBudget(0)
			fired := make(chan error, 1)
			first := true
			h.fc.setOnAwait(func() {
				if !first {
					return
				}
				first = false
				// Another goroutine's call that lands while the loop is
				// still inside process.
				done := make(chan error, 1)
				go func() {
					if op == "Abort" {
						done <- h.sock.Abort()
					} else {
						done <- h.sock.Flush()
					}
				}()
				fired <- <-done
			})
			release := h.fc.block(t)
			a, _ := h.send(0, wsabuf.Buffers{[]byte("first")}, 0)
			b, _ := h.send(1, wsabuf.Buffers{[]byte("second")}, 0)
			release()
			select {
			case err := <-fired:
				if err != nil {
					t.Fatalf("%s: %v", op, err)
				}
			case <-time.After(testDeadline):
				t.Fatal("writer never parked")
			}
			h.fc.sync(t)
			h.fc.sync(t)
			// Both sends are unstarted (nothing written): Abort and Flush
			// alike complete them with ErrOperationAborted and 0 bytes.
			for i, ov := range []*Overlapped{a, b} {
				select {
				case <-ov.Done():
					n, err, _ := ov.Result()
					if n != 0 || !errors.Is(err, ErrOperationAborted) {
						t.Errorf("send %d after %s: (%d, %v), want (0, ErrOperationAborted)", i, op, n, err)
					}
				case <-time.After(time.Second):
					t.Fatalf("BUG: %s submitted while the writer parked is never carried out: send %d stays pending until a Writable that may never come", op, i)
				}
			}
		})
	}
}

// waitGoroutineIn waits until some goroutine is parked in state (e.g. "chan
// receive") with fn (e.g. "(*Socket).TrySend") on its stack: a caller that
// has finished submitting and now waits for its completion. It may run on
// the fake loop, so it reports failure with Errorf, not Fatalf.
func waitGoroutineIn(t *testing.T, fn, state string) bool {
	t.Helper()
	deadline := time.Now().Add(testDeadline)
	for time.Now().Before(deadline) {
		if goroutines.In(fn, state) {
			return true
		}
		runtime.Gosched()
	}
	t.Errorf("no goroutine parked in %s inside %s", state, fn)
	return false
}

// Clause 10: a TrySend, or the withdrawal of a blocking send (timeout or
// cancellation), submitted while the event loop is inside its write pass (at
// the moment the writer parks on AwaitWritable) must still be answered
// without a Writable, which may never come.
func TestClause10WhileWriterParks(t *testing.T) {
	t.Run("TrySend", func(t *testing.T) {
		h := newHarness(t, ConnInfo{}, Options{}, nil)
		h.fc.setBudget(0)
		res := make(chan nerr, 1)
		first := true
		h.fc.setOnAwait(func() {
			if !first {
				return
			}
			first = false
			go func() {
				n, err := h.sock.TrySend(wsabuf.Buffers{[]byte("try")}, 0)
				res <- nerr{n, err}
			}()
			waitGoroutineIn(t, "(*Socket).TrySend", "chan receive")
		})
		ahead, _ := h.send(0, wsabuf.Buffers{[]byte("AHEAD")}, 0)
		select {
		case r := <-res:
			if r.n != 0 || !errors.Is(r.err, ErrWouldBlock) {
				t.Errorf("TrySend behind a parked writer = (%d, %v), want (0, ErrWouldBlock)", r.n, r.err)
			}
		case <-time.After(time.Second):
			t.Errorf("BUG: TrySend submitted while the writer parked waits for a Writable (it must never wait)")
		}
		h.fc.setBudget(-1)
		h.fc.writable()
		waitOv(t, ahead)
		select {
		case <-res:
		case <-time.After(testDeadline):
		}
		if got := string(h.fc.wireBytes()); got != "AHEAD" {
			t.Errorf("wire %q", got)
		}
	})

	t.Run("SendBlocking-cancel", func(t *testing.T) {
		h := newHarness(t, ConnInfo{}, Options{}, nil)
		h.fc.setBudget(0)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		first := true
		h.fc.setOnAwait(func() {
			if !first {
				return
			}
			first = false
			cancel()
			// SendBlocking has seen the cancellation, submitted the
			// withdrawal and waits for the completion.
			waitGoroutineIn(t, "(*Socket).SendBlocking", "chan receive")
		})
		res := make(chan nerr, 1)
		go func() {
			n, err := h.sock.SendBlocking(ctx, wsabuf.Buffers{[]byte("blocked")}, 0)
			res <- nerr{n, err}
		}()
		select {
		case r := <-res:
			if r.n != 0 || !errors.Is(r.err, ErrInterrupted) {
				t.Errorf("cancelled SendBlocking = (%d, %v), want (0, ErrInterrupted)", r.n, r.err)
			}
		case <-time.After(time.Second):
			h.fc.setBudget(-1)
			h.fc.writable()
			t.Errorf("BUG: a SendBlocking cancelled while the writer parked does not return until a Writable")
		}
		if got := string(h.fc.wireBytes()); got != "" {
			t.Errorf("wire %q: the withdrawn send was written", got)
		}
	})
}
