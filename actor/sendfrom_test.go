package actor

import (
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/wsabuf"
)

// sendFromMsg asks the test handler to call SendFrom with its own context.
type sendFromMsg struct {
	m   *Send
	res chan sendFromResult
}

type sendFromResult struct {
	n      int
	err    error
	onLoop bool
}

// sendFromHandler calls SendFrom for each sendFromMsg.
func sendFromHandler(h *harness, ctx protoactor.Context) {
	if m, ok := ctx.Message().(*sendFromMsg); ok {
		n, err := h.sock.SendFrom(ctx, m.m)
		m.res <- sendFromResult{n: n, err: err, onLoop: h.fc.onLoop()}
	}
}

func (h *harness) sendFrom(m *Send) sendFromResult {
	h.t.Helper()
	res := make(chan sendFromResult, 1)
	h.sys.Actors.Root.Send(h.sock.PID(), &sendFromMsg{m: m, res: res})
	select {
	case r := <-res:
		return r
	case <-time.After(testDeadline):
		h.t.Fatal("handler did not run SendFrom")
		return sendFromResult{}
	}
}

// Clause 4 (and 22): SendFrom in the handler's Receive, with nothing queued,
// writes at once and returns (n, nil); the requested completion still comes,
// exactly once, to the Overlapped and to ReplyTo (another actor, or the
// socket's own handler).
func TestClause4SendFromImmediate(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, sendFromHandler)

	ov := new(Overlapped)
	r := h.sendFrom(&Send{Buffers: wsabuf.Buffers{[]byte("hel"), []byte("lo")}, Overlapped: ov, ReplyTo: h.col.pid, Tag: 0})
	if !r.onLoop {
		t.Error("handler did not run on the event loop")
	}
	if r.n != 5 || r.err != nil {
		t.Errorf("SendFrom = (%d, %v), want (5, nil)", r.n, r.err)
	}
	if n, err, done := ov.Result(); !done || n != 5 || err != nil {
		t.Errorf("Overlapped right after an immediate SendFrom: (%d, %v, %v), want (5, nil, true)", n, err, done)
	}
	byTag := h.checkOnce(1)
	if c := byTag[0]; c != nil && (c.Bytes != 5 || c.Err != nil || c.Overlapped != ov) {
		t.Errorf("completion %+v", c)
	}

	// Completion to the socket's own handler.
	ov2 := new(Overlapped)
	r = h.sendFrom(&Send{Buffers: wsabuf.Buffers{[]byte("!")}, Overlapped: ov2, ReplyTo: h.sock.PID(), Tag: "self"})
	if r.n != 1 || r.err != nil {
		t.Errorf("SendFrom = (%d, %v), want (1, nil)", r.n, r.err)
	}
	h.h.waitFor(t, "own Completion", func(m any) bool { c, ok := m.(*Completion); return ok && c.Tag == "self" })
	h.fc.sync(t)
	own := 0
	for _, c := range completionsOf(h.h.all()) {
		if c.Overlapped == ov2 {
			own++
			if c.Bytes != 1 || c.Err != nil {
				t.Errorf("own completion %+v", c)
			}
		}
	}
	if own != 1 {
		t.Errorf("handler got %d completions for its SendFrom, want 1", own)
	}
	if got := string(h.fc.wireBytes()); got != "hello!" {
		t.Errorf("wire %q", got)
	}
	if w := h.fc.writes(); len(w) != 2 {
		t.Errorf("%d writes, want 2", len(w))
	}

	// With a send queued ahead (stalled writer) SendFrom queues behind it.
	h.fc.setBudget(0)
	ahead, _ := h.send(1, wsabuf.Buffers{[]byte("AHEAD")}, 0)
	h.fc.waitAwait(t)
	ov3 := new(Overlapped)
	r = h.sendFrom(&Send{Buffers: wsabuf.Buffers{[]byte("behind")}, Overlapped: ov3, ReplyTo: h.col.pid, Tag: 2})
	if r.n != 0 || r.err != ErrIOPending {
		t.Errorf("SendFrom behind a queued send = (%d, %v), want (0, ErrIOPending)", r.n, r.err)
	}
	h.fc.setBudget(-1)
	h.fc.writable()
	if n, err := waitOv(t, ahead); n != 5 || err != nil {
		t.Errorf("send ahead: (%d, %v)", n, err)
	}
	if n, err := waitOv(t, ov3); n != 6 || err != nil {
		t.Errorf("SendFrom behind: (%d, %v)", n, err)
	}
	h.checkOnce(3)
	if got := string(h.fc.wireBytes()); got != "hello!AHEADbehind" {
		t.Errorf("wire %q", got)
	}

	// Called with no handler context it is Send.
	ov4 := new(Overlapped)
	if n, err := h.sock.SendFrom(nil, &Send{Buffers: wsabuf.Buffers{[]byte(".")}, Overlapped: ov4}); n != 0 || err != ErrIOPending {
		t.Errorf("SendFrom(nil ctx) = (%d, %v), want (0, ErrIOPending)", n, err)
	}
	if n, err := waitOv(t, ov4); n != 1 || err != nil {
		t.Errorf("SendFrom(nil ctx) completion (%d, %v)", n, err)
	}
}

// Clause 4: SendFrom's immediate result must agree with the completion. When
// the immediate write fails (ECONNRESET), SendFrom must not report success.
func TestClause4SendFromImmediateWriteError(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, sendFromHandler)
	h.fc.failWhenWireHas(0, &os.SyscallError{Syscall: "writev", Err: syscall.ECONNRESET})
	ov := new(Overlapped)
	r := h.sendFrom(&Send{Buffers: wsabuf.Buffers{[]byte("doomed")}, Overlapped: ov})
	n, err := waitOv(t, ov)
	if n != 0 || !errors.Is(err, ErrConnReset) {
		t.Errorf("completion (%d, %v), want (0, ErrConnReset)", n, err)
	}
	if r.err == nil {
		t.Errorf("BUG: SendFrom returned (%d, nil) — success — but the write failed and the completion says (%d, %v)", r.n, n, err)
	}
	if len(h.fc.wireBytes()) != 0 {
		t.Error("bytes on the wire")
	}
}

// SendFrom's branches besides the plain stream send written whole: each
// writes the same bytes and completes once, as Send would, and reports the
// outcome at once when the writer finished the send within the call.
func TestSendFromOutlinedBranches(t *testing.T) {
	t.Run("more segments than one writev takes", func(t *testing.T) {
		h := newHarness(t, ConnInfo{}, Options{}, sendFromHandler)
		var bufs wsabuf.Buffers
		var want []byte
		for i := 0; i < wsabuf.MaxIOV+5; i++ {
			b := []byte{byte('a' + i%26)}
			bufs, want = append(bufs, b), append(want, b...)
		}
		ov := new(Overlapped)
		r := h.sendFrom(&Send{Buffers: bufs, Overlapped: ov, ReplyTo: h.col.pid, Tag: 0})
		if r.n != len(want) || r.err != nil {
			t.Errorf("SendFrom = (%d, %v), want (%d, nil)", r.n, r.err, len(want))
		}
		if c := h.checkOnce(1)[0]; c != nil && (c.Bytes != len(want) || c.Err != nil) {
			t.Errorf("completion %+v", c)
		}
		if got := h.fc.wireBytes(); string(got) != string(want) {
			t.Errorf("wire %q, want %q", got, want)
		}
		if w := h.fc.writes(); len(w) != 2 || w[0].Segs != wsabuf.MaxIOV || w[1].Segs != 5 {
			t.Errorf("writes %+v, want %d segments then 5", w, wsabuf.MaxIOV)
		}
	})
	t.Run("flags", func(t *testing.T) {
		h := newHarness(t, ConnInfo{}, Options{}, sendFromHandler)
		r := h.sendFrom(&Send{Buffers: wsabuf.Buffers{[]byte("urgent")}, Flags: MsgOOB, ReplyTo: h.col.pid, Tag: 0})
		if r.n != 6 || r.err != nil {
			t.Errorf("SendFrom = (%d, %v), want (6, nil)", r.n, r.err)
		}
		h.checkOnce(1)
		// TCP's urgent data is one byte: the last goes with MSG_OOB.
		if w := h.fc.writes(); len(w) == 0 || w[len(w)-1].Op != "sendmsg" || w[len(w)-1].Flags != MsgOOB || w[len(w)-1].N != 1 {
			t.Errorf("writes %+v, want the last byte in a sendmsg with MSG_OOB", w)
		}
		if got := string(h.fc.wireBytes()); got != "urgent" {
			t.Errorf("wire %q", got)
		}
	})
	t.Run("datagram", func(t *testing.T) {
		h := newHarness(t, ConnInfo{Network: "udp", Datagram: true, Connected: true, MaxMsgSize: 65507}, Options{}, sendFromHandler)
		r := h.sendFrom(&Send{Buffers: wsabuf.Buffers{[]byte("ab"), []byte("c")}, ReplyTo: h.col.pid, Tag: 0})
		if r.n != 3 || r.err != nil {
			t.Errorf("SendFrom = (%d, %v), want (3, nil)", r.n, r.err)
		}
		h.checkOnce(1)
		if d := h.fc.datagrams(); len(d) != 1 || string(d[0]) != "abc" {
			t.Errorf("datagrams %q, want one \"abc\"", d)
		}
	})
	t.Run("refused", func(t *testing.T) {
		h := newHarness(t, ConnInfo{}, Options{}, sendFromHandler)
		if err := h.sock.Shutdown(); err != nil {
			t.Fatal(err)
		}
		ov := new(Overlapped)
		r := h.sendFrom(&Send{Buffers: wsabuf.Buffers{[]byte("late")}, Overlapped: ov, ReplyTo: h.col.pid, Tag: 0})
		if r.n != 0 || r.err != ErrShutdown {
			t.Errorf("SendFrom after Shutdown = (%d, %v), want (0, ErrShutdown)", r.n, r.err)
		}
		if n, err := waitOv(t, ov); n != 0 || err != ErrShutdown {
			t.Errorf("its Overlapped (%d, %v), want (0, ErrShutdown)", n, err)
		}
		if c := h.checkOnce(1)[0]; c != nil && c.Err != ErrShutdown {
			t.Errorf("completion %+v", c)
		}
	})
}
