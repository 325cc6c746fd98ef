package actor

import (
	"errors"
	"testing"

	"github.com/overlapio/overlap/wsabuf"
)

// Clause 23: a completion means the kernel took the bytes, not that the peer
// has them; MsgConfirm completes a send only once the peer has acknowledged
// all of it, and later completions wait behind it so the order holds.
func TestClause23ConfirmWaitsForAcknowledgement(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)
	h.fc.setUnacked(10) // the last 10 bytes written are not acknowledged

	a, _ := h.send(1, wsabuf.Buffers{[]byte("aaaaa")}, 0)
	if n, err := waitOv(t, a); err != nil || n != 5 {
		t.Fatalf("plain send: %d, %v", n, err)
	}
	b, _ := h.send(2, wsabuf.Buffers{[]byte("bbbbbbbbbb")}, MsgConfirm)
	c, _ := h.send(3, wsabuf.Buffers{[]byte("ccc")}, 0)
	h.fc.sync(t)
	h.fc.do(t, h.sock.checkAcks) // a poll: 18 written, 10 unacked: B (ends at 15) is not acknowledged
	if string(h.fc.wireBytes()) != "aaaaabbbbbbbbbbccc" {
		t.Fatalf("wire %q", h.fc.wireBytes())
	}
	if !b.Pending() || !c.Pending() {
		t.Fatal("a confirmed send (or one behind it) completed before the peer acknowledged it")
	}
	h.fc.setUnacked(3) // acknowledged up to the end of B
	h.fc.do(t, h.sock.checkAcks)
	if n, err := waitOv(t, b); err != nil || n != 10 {
		t.Fatalf("confirmed send: %d, %v", n, err)
	}
	if n, err := waitOv(t, c); err != nil || n != 3 {
		t.Fatalf("send behind it: %d, %v", n, err)
	}
	got := h.col.waitN(t, 3)
	for i, want := range []int{1, 2, 3} {
		if got[i].Tag != want {
			t.Fatalf("completion %d has tag %v, want %d: out of order", i, got[i].Tag, want)
		}
	}
}

// Clause 23 and 14: a confirmed send still unacknowledged when the socket is
// aborted completes with ErrOperationAborted (its bytes were written, never
// confirmed); a plain send behind it completes normally.
func TestClause23ConfirmAborted(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)
	h.fc.setUnacked(100)
	b, _ := h.send(1, wsabuf.Buffers{[]byte("confirm me")}, MsgConfirm)
	c, _ := h.send(2, wsabuf.Buffers{[]byte("plain")}, 0)
	h.fc.sync(t)
	if err := h.sock.Abort(); err != nil {
		t.Fatal(err)
	}
	if n, err := waitOv(t, b); !errors.Is(err, ErrOperationAborted) || n != 10 {
		t.Fatalf("unconfirmed send at abort: %d, %v", n, err)
	}
	if n, err := waitOv(t, c); err != nil || n != 5 {
		t.Fatalf("plain send behind it: %d, %v", n, err)
	}
}

// Clause 23: confirmation is a stream feature.
func TestClause23ConfirmOnDatagram(t *testing.T) {
	h := newHarness(t, ConnInfo{Network: "udp", Datagram: true, Connected: true, MaxMsgSize: 100}, Options{}, nil)
	if _, err := h.send(1, wsabuf.Buffers{[]byte("x")}, MsgConfirm); !errors.Is(err, ErrOpNotSupported) {
		t.Fatalf("MsgConfirm on a datagram socket: %v, want ErrOpNotSupported", err)
	}
}
