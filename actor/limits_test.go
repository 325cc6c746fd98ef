package actor

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/wsabuf"
)

// Clause 15: past MaxPendingSends or MaxPendingBytes a send fails at once
// with ErrWouldBlock, nothing queued and nothing sent; room comes back as
// sends complete.
func TestClause15Limits(t *testing.T) {
	t.Run("MaxPendingSends", func(t *testing.T) {
		h := newHarness(t, ConnInfo{}, Options{MaxPendingSends: 10}, nil)
		sends := make([]wsabuf.Buffers, 10)
		for i := range sends {
			sends[i] = segsOf(i, 2)
		}
		ovs := stallAfter(t, h, 0, sends)
		if s, _ := h.sock.Pending(); s != 10 {
			t.Errorf("Pending() sends = %d, want 10", s)
		}
		over, err := h.send(10, wsabuf.Buffers{[]byte("ELEVENTH")}, 0)
		if !errors.Is(err, ErrWouldBlock) {
			t.Fatalf("11th send: %v, want ErrWouldBlock", err)
		}
		if n, err := waitOv(t, over); n != 0 || !errors.Is(err, ErrWouldBlock) {
			t.Errorf("11th send completion (%d, %v)", n, err)
		}
		if s, _ := h.sock.Pending(); s != 10 {
			t.Errorf("Pending() sends = %d after the refused send, want 10", s)
		}
		h.fc.setBudget(-1)
		h.fc.writable()
		for i, ov := range ovs {
			if n, err := waitOv(t, ov); n != sends[i].Len() || err != nil {
				t.Errorf("send %d: (%d, %v)", i, n, err)
			}
		}
		h.checkOnce(11)
		wire := h.fc.wireBytes()
		if !bytes.Equal(wire, concat(sends...)) || bytes.Contains(wire, []byte("ELEVENTH")) {
			t.Errorf("wire %q: want the first ten sends only", wire)
		}
		again, err := h.send(11, wsabuf.Buffers{[]byte("again")}, 0)
		if err != ErrIOPending {
			t.Fatalf("send after draining: %v", err)
		}
		if n, err := waitOv(t, again); n != 5 || err != nil {
			t.Errorf("send after draining: (%d, %v)", n, err)
		}
	})

	t.Run("MaxPendingBytes", func(t *testing.T) {
		h := newHarness(t, ConnInfo{}, Options{MaxPendingBytes: 100}, nil)
		ovs := stallAfter(t, h, 0, []wsabuf.Buffers{{sized(40, 'a')}, {sized(40, 'b')}})
		over, err := h.send(2, wsabuf.Buffers{sized(30, 'X')}, 0)
		if !errors.Is(err, ErrWouldBlock) {
			t.Errorf("send past MaxPendingBytes: %v, want ErrWouldBlock", err)
		}
		if n, err := waitOv(t, over); n != 0 || !errors.Is(err, ErrWouldBlock) {
			t.Errorf("refused send completion (%d, %v)", n, err)
		}
		fits, err := h.send(3, wsabuf.Buffers{sized(20, 'c')}, 0)
		if err != ErrIOPending {
			t.Errorf("send up to exactly MaxPendingBytes: %v, want ErrIOPending", err)
		}
		if _, b := h.sock.Pending(); b != 100 {
			t.Errorf("Pending() bytes = %d, want 100", b)
		}
		h.fc.setBudget(-1)
		h.fc.writable()
		for _, ov := range append(ovs, fits) {
			if _, err := waitOv(t, ov); err != nil {
				t.Errorf("send: %v", err)
			}
		}
		h.checkOnce(4)
		wire := h.fc.wireBytes()
		if bytes.IndexByte(wire, 'X') >= 0 || len(wire) != 100 {
			t.Errorf("wire holds %d bytes (refused bytes present: %v)", len(wire), bytes.IndexByte(wire, 'X') >= 0)
		}
		// One send larger than the cap is accepted when nothing is pending.
		big, err := h.send(4, wsabuf.Buffers{sized(150, 'd')}, 0)
		if err != ErrIOPending {
			t.Fatalf("150-byte send on an idle socket with a 100-byte cap: %v", err)
		}
		if n, err := waitOv(t, big); n != 150 || err != nil {
			t.Errorf("big send: (%d, %v)", n, err)
		}
	})
}

// "Beyond the contract: writability": with a stalled writer the handler gets
// Unwritable once the pending bytes reach the high watermark, and Writable
// only after they fall to the low one. With WatermarkTo the messages go to
// that actor instead.
func TestWatermarks(t *testing.T) {
	run := func(t *testing.T, h *harness, rec *recorder) {
		sends := make([]wsabuf.Buffers, 10)
		for i := range sends {
			sends[i] = wsabuf.Buffers{sized(20, byte('a'+i))}
		}
		ovs := stallAfter(t, h, 0, sends)
		u := rec.waitFor(t, "Unwritable", func(m any) bool { _, ok := m.(*Unwritable); return ok }).(*Unwritable)
		if u.Pending < 100 || u.Socket != h.sock {
			t.Errorf("Unwritable{Pending: %d}, want >= 100 and the socket", u.Pending)
		}
		// Drain to 80 pending bytes: above the low watermark.
		h.fc.setBudget(120)
		h.fc.writable()
		h.fc.waitAwait(t)
		h.fc.sync(t)
		for _, m := range rec.all() {
			if w, ok := m.(*Writable); ok {
				t.Fatalf("Writable{Pending: %d} before the pending bytes fell to the low watermark (30)", w.Pending)
			}
		}
		h.fc.setBudget(60)
		h.fc.writable()
		w := rec.waitFor(t, "Writable", func(m any) bool { _, ok := m.(*Writable); return ok }).(*Writable)
		if w.Pending > 30 {
			t.Errorf("Writable{Pending: %d}, want <= 30", w.Pending)
		}
		var order []string
		for _, m := range rec.all() {
			switch m.(type) {
			case *Unwritable:
				order = append(order, "U")
			case *Writable:
				order = append(order, "W")
			}
		}
		if len(order) != 2 || order[0] != "U" || order[1] != "W" {
			t.Errorf("watermark messages %v, want [U W]", order)
		}
		h.fc.setBudget(-1)
		h.fc.writable()
		for _, ov := range ovs {
			if _, err := waitOv(t, ov); err != nil {
				t.Errorf("send: %v", err)
			}
		}
	}
	t.Run("handler", func(t *testing.T) {
		h := newHarness(t, ConnInfo{}, Options{HighWatermark: 100, LowWatermark: 30}, nil)
		run(t, h, h.h)
	})
	t.Run("WatermarkTo", func(t *testing.T) {
		rec := newRecorder()
		h := newHarness(t, ConnInfo{}, Options{HighWatermark: 100, LowWatermark: 30}, nil)
		target := h.sys.Actors.Root.Spawn(protoactor.PropsFromFunc(func(ctx protoactor.Context) { rec.add(ctx.Message()) }))
		// Options are fixed at NewSocket: make a second socket, on its own
		// fake conn in the same system, with WatermarkTo set.
		h2 := &harness{t: t, sys: h.sys, fc: newFakeConn(ConnInfo{Network: "tcp"}), h: newRecorder(), col: h.col}
		t.Cleanup(func() { h2.fc.stop(t) })
		props := protoactor.PropsFromFunc(func(ctx protoactor.Context) { h2.h.add(ctx.Message()) })
		h2.fc.do(t, func() {
			s, ep, err := NewSocket(h.sys, h2.fc, props, Options{HighWatermark: 100, LowWatermark: 30, WatermarkTo: target})
			if err != nil {
				t.Errorf("NewSocket: %v", err)
				return
			}
			h2.sock, h2.ep = s, ep
			h2.fc.mu.Lock()
			h2.fc.ep = ep
			h2.fc.mu.Unlock()
			ep.Start()
		})
		if h2.sock == nil {
			t.FailNow()
		}
		run(t, h2, rec)
		for _, m := range h2.h.all() {
			switch m.(type) {
			case *Writable, *Unwritable:
				t.Errorf("handler got %T although WatermarkTo is set", m)
			}
		}
	})
}

// Clause 8: an Overlapped is waited on and read; reusing one still pending
// fails with ErrInvalid and sends nothing; once completed it may be reused.
func TestClause8Overlapped(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)

	var fresh Overlapped
	if fresh.Done() != nil {
		t.Error("Done() of a never-submitted Overlapped is not nil")
	}
	if _, err := fresh.Wait(context.Background()); !errors.Is(err, ErrInvalid) {
		t.Errorf("Wait on a never-submitted Overlapped: %v, want ErrInvalid", err)
	}

	ov := &Overlapped{Context: "mine"}
	h.fc.setBudget(0)
	if err := h.sock.Send(&Send{Buffers: wsabuf.Buffers{[]byte("first")}, Overlapped: ov, ReplyTo: h.col.pid, Tag: 0}); err != ErrIOPending {
		t.Fatalf("Send: %v", err)
	}
	h.fc.waitAwait(t)
	if n, err, done := ov.Result(); done || n != 0 || err != nil {
		t.Errorf("Result before completion = (%d, %v, %v), want (0, nil, false)", n, err, done)
	}
	if !ov.Pending() {
		t.Error("Pending() = false for a queued send")
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ov.Wait(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait with a cancelled context: %v, want context.Canceled", err)
	}
	if !ov.Pending() {
		t.Error("Wait's context ending cancelled the send")
	}

	// Reuse while pending: ErrInvalid, nothing sent, the first send unharmed.
	err := h.sock.Send(&Send{Buffers: wsabuf.Buffers{[]byte("REUSED")}, Overlapped: ov, ReplyTo: h.col.pid, Tag: 1})
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("Send with a pending Overlapped: %v, want ErrInvalid", err)
	}
	cs := h.col.waitN(t, 1)
	if c := cs[0]; c.Tag != 1 || !errors.Is(c.Err, ErrInvalid) || c.Bytes != 0 || c.Overlapped != nil {
		t.Errorf("completion of the refused send: %+v, want tag 1, ErrInvalid, no Overlapped", c)
	}
	if !ov.Pending() {
		t.Error("the refused reuse completed the first send's Overlapped")
	}

	h.fc.setBudget(-1)
	h.fc.writable()
	ctx, cancel2 := context.WithTimeout(context.Background(), testDeadline)
	defer cancel2()
	if n, err := ov.Wait(ctx); n != 5 || err != nil {
		t.Errorf("Wait = (%d, %v), want (5, nil)", n, err)
	}
	if n, err, done := ov.Result(); !done || n != 5 || err != nil {
		t.Errorf("Result = (%d, %v, %v), want (5, nil, true)", n, err, done)
	}
	if ov.Context != "mine" {
		t.Errorf("Overlapped.Context changed to %v", ov.Context)
	}
	h.checkOnce(2)
	if got := string(h.fc.wireBytes()); got != "first" {
		t.Errorf("wire %q, want %q", got, "first")
	}

	// Reuse after completion: a new operation.
	if err := h.sock.Send(&Send{Buffers: wsabuf.Buffers{[]byte("second")}, Overlapped: ov}); err != ErrIOPending {
		t.Fatalf("reuse after completion: %v", err)
	}
	if n, err := ov.Wait(ctx); n != 6 || err != nil {
		t.Errorf("second Wait = (%d, %v), want (6, nil)", n, err)
	}
	if got := string(h.fc.wireBytes()); got != "firstsecond" {
		t.Errorf("wire %q", got)
	}

	// The message form: a Send to the PID with a pending Overlapped.
	h.fc.setBudget(0)
	if err := h.sock.Send(&Send{Buffers: wsabuf.Buffers{[]byte("third")}, Overlapped: ov}); err != ErrIOPending {
		t.Fatalf("third: %v", err)
	}
	h.sys.Actors.Root.Send(h.sock.PID(), &Send{Buffers: wsabuf.Buffers{[]byte("MSG")}, Overlapped: ov, ReplyTo: h.col.pid, Tag: 7})
	deadline := time.After(testDeadline)
	for {
		var found *Completion
		for _, c := range h.col.completions() {
			if c.Tag == 7 {
				found = c
			}
		}
		if found != nil {
			if !errors.Is(found.Err, ErrInvalid) {
				t.Errorf("Send message with a pending Overlapped: %v, want ErrInvalid", found.Err)
			}
			break
		}
		select {
		case <-h.col.rec.sig:
		case <-deadline:
			t.Fatal("no completion for the Send message with a pending Overlapped")
		}
	}
	h.fc.setBudget(-1)
	h.fc.writable()
	if n, err := ov.Wait(ctx); n != 5 || err != nil {
		t.Errorf("third Wait = (%d, %v), want (5, nil)", n, err)
	}
	if got := string(h.fc.wireBytes()); got != "firstsecondthird" {
		t.Errorf("wire %q", got)
	}
}

// The pending sends and bytes share one word: they round-trip at their
// largest values, a completion takes back exactly what its send added, and
// Options above the word's capacity are capped rather than overflowing it.
func TestPendingCountsShareOneWord(t *testing.T) {
	var v uint64
	for i := 0; i < maxPendingSends-1; i++ {
		v += packPending(1)
	}
	v += packPending(maxPendingBytes)
	if s, b := unpackPending(v); s != maxPendingSends || b != maxPendingSends-1+maxPendingBytes {
		t.Fatalf("unpacked %d sends, %d bytes", s, b)
	}
	v -= packPending(maxPendingBytes)
	if s, b := unpackPending(v); s != maxPendingSends-1 || b != maxPendingSends-1 {
		t.Fatalf("after one completion: %d sends, %d bytes", s, b)
	}
	o := Options{MaxPendingSends: 1 << 30, MaxPendingBytes: 1 << 50}.withDefaults()
	if o.MaxPendingSends != maxPendingSends || o.MaxPendingBytes != maxPendingBytes {
		t.Fatalf("options not capped: %d sends, %d bytes", o.MaxPendingSends, o.MaxPendingBytes)
	}
}
