package actor

import (
	"bytes"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/wsabuf"
)

// Clause 19: thousands of sends pending when writev fails with ECONNRESET
// (part of them queued while the loop was busy, the rest racing the failure):
// every send completes exactly once; the written ones with their size, the
// pending ones with an error that is both ErrConnReset and ECONNRESET, those
// submitted after the failure with ErrNotSock; the bytes the completions
// report add up to the bytes on the wire.
func TestClause19ExactlyOnceOnWriteError(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)
	const n, queued, failSend = 5000, 3000, 2000
	bufs := make([]wsabuf.Buffers, n)
	failAt := 0
	for i := range bufs {
		bufs[i] = segsOf(i, 1+i%3)
		if i < failSend {
			failAt += bufs[i].Len()
		}
	}
	failAt += 3 // in the middle of send failSend
	h.fc.setPerCall(4096)
	h.fc.setAutoWake(true)
	h.fc.failWhenWireHas(failAt, &os.SyscallError{Syscall: "writev", Err: syscall.ECONNRESET})

	release := h.fc.block(t)
	ovs := make([]*Overlapped, n)
	rets := make([]error, n)
	half, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			ovs[i], rets[i] = h.send(i, bufs[i], 0)
			if i == queued-1 {
				close(half)
			}
		}
	}()
	select {
	case <-half:
	case <-time.After(testDeadline):
		t.Fatal("sends blocked")
	}
	release()
	select {
	case <-done:
	case <-time.After(testDeadline):
		t.Fatal("sends blocked")
	}

	byTag := h.checkOnce(n)
	sum, partial, firstErr := 0, 0, -1
	for i, c := range byTag {
		if c == nil {
			continue
		}
		on, oerr := waitOv(t, ovs[i])
		if on != c.Bytes || oerr != c.Err {
			t.Errorf("send %d: overlapped (%d, %v) differs from completion (%d, %v)", i, on, oerr, c.Bytes, c.Err)
		}
		sum += c.Bytes
		switch {
		case c.Err == nil:
			if c.Bytes != bufs[i].Len() {
				t.Errorf("send %d: success with %d of %d bytes", i, c.Bytes, bufs[i].Len())
			}
			if firstErr >= 0 {
				t.Errorf("send %d succeeded after send %d failed", i, firstErr)
			}
			if rets[i] != ErrIOPending {
				t.Errorf("send %d: Send returned %v, then succeeded", i, rets[i])
			}
		case errors.Is(c.Err, ErrNotSock):
			if rets[i] != ErrNotSock || c.Bytes != 0 || i < queued {
				t.Errorf("send %d: refused completion (%d, %v) but Send returned %v", i, c.Bytes, c.Err, rets[i])
			}
		default:
			if firstErr < 0 {
				firstErr = i
			}
			if !errors.Is(c.Err, ErrConnReset) || !errors.Is(c.Err, syscall.ECONNRESET) {
				t.Errorf("send %d: error %v is not ErrConnReset and ECONNRESET", i, c.Err)
			}
			if rets[i] != ErrIOPending {
				t.Errorf("send %d: Send returned %v", i, rets[i])
			}
			if c.Bytes != 0 {
				partial++
				if i != failSend || c.Bytes != 3 {
					t.Errorf("send %d: failed with %d bytes sent, want only send %d with 3", i, c.Bytes, failSend)
				}
			}
		}
	}
	if firstErr != failSend {
		t.Errorf("first failed send %d, want %d", firstErr, failSend)
	}
	if partial != 1 {
		t.Errorf("%d partly sent failures, want 1", partial)
	}
	wire := h.fc.wireBytes()
	if sum != len(wire) || len(wire) != failAt {
		t.Errorf("completions report %d bytes, wire holds %d, fault injected at %d", sum, len(wire), failAt)
	}
	if !bytes.Equal(wire, concat(bufs...)[:len(wire)]) {
		t.Error("wire is not a prefix of the sends in order")
	}
	if !h.fc.isClosed() {
		t.Error("connection not closed after a write error")
	}
	if s, b := h.sock.Pending(); s != 0 || b != 0 {
		t.Errorf("Pending() = (%d, %d), want (0, 0)", s, b)
	}
}

// stallAfter queues sends behind a writer that has taken budget bytes and
// waits for writability that does not come.
func stallAfter(t *testing.T, h *harness, budget int, sends []wsabuf.Buffers) []*Overlapped {
	t.Helper()
	h.fc.setBudget(budget)
	release := h.fc.block(t)
	ovs := make([]*Overlapped, len(sends))
	for i, b := range sends {
		var err error
		if ovs[i], err = h.send(i, b, 0); err != ErrIOPending {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	release()
	h.fc.waitAwait(t)
	return ovs
}

// Clause 14: Abort with sends pending behind a stalled writer: each completes
// with ErrOperationAborted and the bytes it did send; the connection is
// closed abortively; later sends fail with ErrNotSock.
func TestClause14Abort(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)
	sends := []wsabuf.Buffers{{[]byte("abcd")}, {[]byte("0123"), []byte("4567")}, {[]byte("xxxxx")}, {[]byte("yyyyyy")}}
	ovs := stallAfter(t, h, 10, sends)
	if err := h.sock.Abort(); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	want := []struct {
		n   int
		err error
	}{{4, nil}, {6, ErrOperationAborted}, {0, ErrOperationAborted}, {0, ErrOperationAborted}}
	for i, ov := range ovs {
		n, err := waitOv(t, ov)
		if n != want[i].n || (want[i].err == nil) != (err == nil) || want[i].err != nil && !errors.Is(err, want[i].err) {
			t.Errorf("send %d: (%d, %v), want (%d, %v)", i, n, err, want[i].n, want[i].err)
		}
	}
	h.checkOnce(len(sends))
	if got := tags(h.col.completions()); !ascending(got) {
		t.Errorf("completion order %v", got)
	}
	if got := string(h.fc.wireBytes()); got != "abcd012345" {
		t.Errorf("wire %q", got)
	}
	var closes []fakeCall
	for _, c := range h.fc.callLog() {
		if c.Op == "close" {
			closes = append(closes, c)
		}
	}
	if len(closes) != 1 || !closes[0].Abort {
		t.Errorf("close calls %+v, want one abortive close", closes)
	}
	h.h.waitFor(t, "Closed", func(m any) bool { _, ok := m.(*Closed); return ok })
	ov, err := h.send(9, wsabuf.Buffers{[]byte("late")}, 0)
	if !errors.Is(err, ErrNotSock) {
		t.Errorf("send after Abort: %v, want ErrNotSock", err)
	}
	if n, err := waitOv(t, ov); n != 0 || !errors.Is(err, ErrNotSock) {
		t.Errorf("send after Abort: completion (%d, %v)", n, err)
	}
	if got := string(h.fc.wireBytes()); got != "abcd012345" {
		t.Errorf("wire after late send %q", got)
	}
}

// Clause 14 (SIO_FLUSH): Flush aborts queued sends not yet started (0 bytes,
// ErrOperationAborted); the partly written one goes on and completes
// normally, and a send after the flush follows it.
func TestClause14Flush(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)
	sends := []wsabuf.Buffers{{[]byte("0123456789")}, {[]byte("abc")}, nil, {[]byte("de"), []byte("fg")}}
	ovs := stallAfter(t, h, 5, sends)
	if err := h.sock.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	for i := 1; i < len(ovs); i++ {
		if n, err := waitOv(t, ovs[i]); n != 0 || !errors.Is(err, ErrOperationAborted) {
			t.Errorf("queued send %d: (%d, %v), want (0, ErrOperationAborted)", i, n, err)
		}
	}
	if _, _, done := ovs[0].Result(); done {
		t.Fatal("the partly written send was flushed")
	}
	after, err := h.send(len(sends), wsabuf.Buffers{[]byte("XY")}, 0)
	if err != ErrIOPending {
		t.Fatalf("send after Flush: %v", err)
	}
	h.fc.setBudget(-1)
	h.fc.writable()
	if n, err := waitOv(t, ovs[0]); n != 10 || err != nil {
		t.Errorf("partly written send: (%d, %v), want (10, nil)", n, err)
	}
	if n, err := waitOv(t, after); n != 2 || err != nil {
		t.Errorf("send after Flush: (%d, %v), want (2, nil)", n, err)
	}
	h.checkOnce(len(sends) + 1)
	if got := string(h.fc.wireBytes()); got != "0123456789XY" {
		t.Errorf("wire %q, want %q", got, "0123456789XY")
	}
	if h.fc.isClosed() {
		t.Error("Flush closed the connection")
	}
}

// Clause 13: Shutdown half-closes after the sends before it; later sends fail
// with ErrShutdown at once and send nothing.
func TestClause13Shutdown(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)
	sends := []wsabuf.Buffers{{[]byte("first,")}, {[]byte("second")}}
	ovs := stallAfter(t, h, 0, sends)
	if err := h.sock.Shutdown(); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	late, err := h.send(2, wsabuf.Buffers{[]byte("LATE")}, 0)
	if !errors.Is(err, ErrShutdown) {
		t.Errorf("send after Shutdown: %v, want ErrShutdown", err)
	}
	if n, err := waitOv(t, late); n != 0 || !errors.Is(err, ErrShutdown) {
		t.Errorf("send after Shutdown: completion (%d, %v)", n, err)
	}
	h.fc.sync(t)
	for _, c := range h.fc.callLog() {
		if c.Op == "shutdown" {
			t.Fatal("ShutdownWrite before the earlier sends were written")
		}
	}
	h.fc.setBudget(-1)
	h.fc.writable()
	for i, ov := range ovs {
		if n, err := waitOv(t, ov); n != sends[i].Len() || err != nil {
			t.Errorf("send %d: (%d, %v)", i, n, err)
		}
	}
	h.checkOnce(3)
	h.fc.sync(t)
	var shut []fakeCall
	for _, c := range h.fc.callLog() {
		if c.Op == "shutdown" {
			shut = append(shut, c)
		}
	}
	if len(shut) != 1 || shut[0].WireAt != len("first,second") {
		t.Errorf("shutdown calls %+v, want one after %d bytes", shut, len("first,second"))
	}
	if got := string(h.fc.wireBytes()); got != "first,second" {
		t.Errorf("wire %q", got)
	}
	// A send message to the PID is refused the same way.
	ov := new(Overlapped)
	h.sys.Actors.Root.Send(h.sock.PID(), &Send{Buffers: wsabuf.Buffers{[]byte("msg")}, Overlapped: ov})
	if n, err := waitOv(t, ov); n != 0 || !errors.Is(err, ErrShutdown) {
		t.Errorf("Send message after Shutdown: (%d, %v)", n, err)
	}
	if h.fc.isClosed() {
		t.Error("Shutdown closed the connection")
	}
}

// Clause 14 ("an owner actor that stops cancels its pending sends"):
// stopping the socket's actor completes the pending sends with
// ErrOperationAborted, closes the connection, and later sends fail with
// ErrNotSock (by handle, by System.Send, and as a message to the PID).
func TestClause14StopActorCancelsPending(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)
	sends := []wsabuf.Buffers{{[]byte("aaaa")}, {[]byte("bbbb")}, {[]byte("cccc")}}
	ovs := stallAfter(t, h, 2, sends)
	h.sys.Actors.Root.Stop(h.sock.PID())
	for i, ov := range ovs {
		n, err := waitOv(t, ov)
		want := 0
		if i == 0 {
			want = 2
		}
		if n != want || !errors.Is(err, ErrOperationAborted) {
			t.Errorf("send %d: (%d, %v), want (%d, ErrOperationAborted)", i, n, err, want)
		}
	}
	h.checkOnce(len(sends))
	h.h.waitFor(t, "Stopped", func(m any) bool { _, ok := m.(*protoactor.Stopped); return ok })
	if !h.fc.isClosed() {
		t.Error("connection not closed when its actor stopped")
	}
	if _, err := h.send(3, wsabuf.Buffers{[]byte("late")}, 0); !errors.Is(err, ErrNotSock) {
		t.Errorf("Socket.Send after stop: %v, want ErrNotSock", err)
	}
	if err := h.sys.Send(h.sock.PID(), &Send{Buffers: wsabuf.Buffers{[]byte("late")}}); !errors.Is(err, ErrNotSock) {
		t.Errorf("System.Send after stop: %v, want ErrNotSock", err)
	}
	ov := new(Overlapped)
	h.sys.Actors.Root.Send(h.sock.PID(), &Send{Buffers: wsabuf.Buffers{[]byte("late")}, Overlapped: ov})
	if n, err := waitOv(t, ov); n != 0 || !errors.Is(err, ErrNotSock) {
		t.Errorf("Send message after stop: (%d, %v), want ErrNotSock (clause 18)", n, err)
	}
	if got := string(h.fc.wireBytes()); got != "aa" {
		t.Errorf("wire %q", got)
	}
}

// Clause 14 (close): a graceful Close writes the sends before it, then closes;
// the handler gets Closed; later sends fail with ErrNotSock.
func TestClause14GracefulClose(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)
	sends := []wsabuf.Buffers{{[]byte("one,")}, {[]byte("two")}}
	ovs := stallAfter(t, h, 1, sends)
	if err := h.sock.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := h.send(2, wsabuf.Buffers{[]byte("late")}, 0); !errors.Is(err, ErrNotSock) {
		t.Errorf("send after Close: %v, want ErrNotSock", err)
	}
	h.fc.sync(t)
	if h.fc.isClosed() {
		t.Fatal("closed before the earlier sends were written")
	}
	h.fc.setBudget(-1)
	h.fc.writable()
	for i, ov := range ovs {
		if n, err := waitOv(t, ov); n != sends[i].Len() || err != nil {
			t.Errorf("send %d: (%d, %v)", i, n, err)
		}
	}
	h.checkOnce(3)
	c := h.h.waitFor(t, "Closed", func(m any) bool { _, ok := m.(*Closed); return ok }).(*Closed)
	if c.Err != nil {
		t.Errorf("Closed.Err = %v, want nil for a local close", c.Err)
	}
	for _, call := range h.fc.callLog() {
		if call.Op == "close" && (call.Abort || call.WireAt != len("one,two")) {
			t.Errorf("close call %+v, want graceful after 7 bytes", call)
		}
	}
	if got := string(h.fc.wireBytes()); got != "one,two" {
		t.Errorf("wire %q", got)
	}
}

// Clause 14 (close, linger): a graceful close whose sends cannot be written
// within Linger aborts them (ErrOperationAborted, the bytes they sent) and
// resets the connection.
func TestClause14CloseLingerExpires(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{Linger: 50 * time.Millisecond}, nil)
	ovs := stallAfter(t, h, 3, []wsabuf.Buffers{{[]byte("abcdef")}})
	if err := h.sock.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if n, err := waitOv(t, ovs[0]); n != 3 || !errors.Is(err, ErrOperationAborted) {
		t.Errorf("send: (%d, %v), want (3, ErrOperationAborted)", n, err)
	}
	select {
	case <-h.fc.closeSig:
	case <-time.After(testDeadline):
		t.Fatal("connection not closed after the linger time")
	}
	for _, c := range h.fc.callLog() {
		if c.Op == "close" && !c.Abort {
			t.Errorf("linger expiry closed gracefully, want a reset")
		}
	}
}
