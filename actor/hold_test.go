package actor

import (
	"bytes"
	"errors"
	"sync"
	"testing"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/wsabuf"
)

// countingHold is a Releaser that counts its releases.
type countingHold struct {
	mu  sync.Mutex
	n   int
	err error
}

func (c *countingHold) Release() { c.mu.Lock(); c.n++; c.mu.Unlock() }
func (c *countingHold) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}
func (c *countingHold) count() int { c.mu.Lock(); defer c.mu.Unlock(); return c.n }

// Clause 2 and "Broadcast": a send's Hold is released exactly once, before
// its completion is visible, whether the send succeeded, was refused at
// submit, or was aborted.
func TestClause2HoldReleasedOnce(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)
	check := func(what string, hold *countingHold, ov *Overlapped) {
		t.Helper()
		waitOv(t, ov)
		if got := hold.count(); got != 1 {
			t.Errorf("%s: Hold released %d times by the completion, want 1", what, got)
		}
	}

	ok := &countingHold{}
	ov := new(Overlapped)
	_ = h.sock.Send(&Send{Buffers: wsabuf.Buffers{[]byte("ok")}, Hold: ok, Overlapped: ov})
	check("success", ok, ov)

	bad := &countingHold{}
	ov = new(Overlapped)
	_ = h.sock.Send(&Send{Buffers: wsabuf.Buffers{[]byte("x")}, Flags: MsgPartial, Hold: bad, Overlapped: ov})
	check("refused flag", bad, ov)

	h.fc.setBudget(0)
	pending := new(Overlapped)
	held := &countingHold{}
	_ = h.sock.Send(&Send{Buffers: wsabuf.Buffers{[]byte("stuck")}, Hold: held, Overlapped: pending})
	h.fc.waitAwait(t)
	reuse := &countingHold{}
	if err := h.sock.Send(&Send{Buffers: wsabuf.Buffers{[]byte("x")}, Hold: reuse, Overlapped: pending}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("reuse: %v", err)
	}
	if got := reuse.count(); got != 1 {
		t.Errorf("refused reuse of a pending Overlapped: Hold released %d times, want 1", got)
	}
	if got := held.count(); got != 0 {
		t.Errorf("pending send's Hold released %d times before its completion", got)
	}
	if err := h.sock.Abort(); err != nil {
		t.Fatal(err)
	}
	check("aborted", held, pending)
	h.fc.sync(t)
	for what, c := range map[string]*countingHold{"success": ok, "refused flag": bad, "aborted": held} {
		if got := c.count(); got != 1 {
			t.Errorf("%s: Hold released %d times in the end, want 1", what, got)
		}
	}
}

// Clause 20 (WSAEFAULT, "a released pooled buffer"): a send whose Hold is a
// buffer already released fails with ErrFault (and ErrReleased as the
// cause), nothing sent, without touching the dead buffer's reference count.
func TestClause20ReleasedHoldIsFault(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)

	// With a Releaser whose Err reports the fault: the send must not
	// release a reference it was never given.
	dead := &countingHold{err: wsabuf.ErrReleased}
	ov := new(Overlapped)
	err := h.sock.Send(&Send{Buffers: wsabuf.Buffers{[]byte("stale")}, Hold: dead, Overlapped: ov})
	if !errors.Is(err, ErrFault) || !errors.Is(err, wsabuf.ErrReleased) {
		t.Errorf("Send with a released Hold: %v, want ErrFault wrapping wsabuf.ErrReleased", err)
	}
	if n, err := waitOv(t, ov); n != 0 || !errors.Is(err, ErrFault) {
		t.Errorf("completion (%d, %v), want (0, ErrFault)", n, err)
	}
	if got := dead.count(); got != 0 {
		t.Errorf("BUG: the refused send released its already-released Hold %d time(s); a *wsabuf.Buf panics on that", got)
	}

	// The real thing: a *wsabuf.Buf released before the send.
	pool := wsabuf.NewPool(wsabuf.PoolConfig{})
	buf, gerr := pool.Get(16)
	if gerr != nil {
		t.Fatal(gerr)
	}
	copy(buf.Bytes(), "pooled bytes....")
	data := buf.Bytes()
	buf.Release()
	var sendErr error
	panicked := func() (p any) {
		defer func() { p = recover() }()
		sendErr = h.sock.Send(&Send{Buffers: wsabuf.Buffers{data}, Hold: buf})
		return nil
	}()
	if panicked != nil {
		t.Errorf("BUG: Send with a released *wsabuf.Buf as Hold panicked (%v) instead of failing with ErrFault", panicked)
	} else if !errors.Is(sendErr, ErrFault) {
		t.Errorf("Send with a released *wsabuf.Buf: %v, want ErrFault", sendErr)
	}
	h.fc.sync(t)
	if len(h.fc.writes()) != 0 {
		t.Error("a send with a released buffer reached the wire")
	}
}

// Clause 2: the socket captures the buffer array (the slice headers) at
// submit, so the caller may reuse the array at once: for a few segments
// (kept inline) and for many.
func TestClause2ArrayCapturedAtSubmit(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)
	release := h.fc.block(t)
	few := wsabuf.Buffers{[]byte("ab"), []byte("cd")}
	many := segsOf(1, 10)
	want := concat(few, many)
	ov1, _ := h.send(0, few, 0)
	ov2, _ := h.send(1, many, 0)
	// Reuse the arrays before the loop writes anything.
	for i := range few {
		few[i] = []byte("XX")
	}
	for i := range many {
		many[i] = []byte("YY")
	}
	_ = append(few[:0], []byte("ZZ")) // reuse the array's first slot
	release()
	waitOv(t, ov1)
	waitOv(t, ov2)
	if got := h.fc.wireBytes(); !bytes.Equal(got, want) {
		t.Errorf("wire %q, want %q: the send used the caller's reused array", got, want)
	}
}

// A panic in the handler is the supervisor's business (restart by default):
// the socket keeps working afterwards.
func TestHandlerPanicRestarts(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, func(h *harness, ctx protoactor.Context) {
		if s, ok := ctx.Message().(string); ok && s == "boom" {
			panic("handler failure")
		}
	})
	h.sys.Actors.Root.Send(h.sock.PID(), "boom")
	h.h.waitFor(t, "Restarting", func(m any) bool { _, ok := m.(*protoactor.Restarting); return ok })
	h.sys.Actors.Root.Send(h.sock.PID(), "ping")
	h.h.waitFor(t, "ping after the restart", func(m any) bool { s, ok := m.(string); return ok && s == "ping" })
	ov, err := h.send(0, wsabuf.Buffers{[]byte("still here")}, 0)
	if err != ErrIOPending {
		t.Fatalf("send after a handler panic: %v", err)
	}
	if n, err := waitOv(t, ov); n != 10 || err != nil {
		t.Errorf("send after a handler panic: (%d, %v)", n, err)
	}
}
