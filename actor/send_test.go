package actor

import (
	"bytes"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/overlapio/overlap/wsabuf"
)

// Clauses 9 and 21, "Beyond the contract: queued sends are coalesced": 1,000
// sends queued while the loop is busy leave in a handful of gather writes of
// at most MaxIOV segments, contiguous and in order, and each completes once
// with its own byte count.
func TestClause21CoalescedSends(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)
	const n = 1000
	release := h.fc.block(t)

	bufs := make([]wsabuf.Buffers, n)
	ovs := make([]*Overlapped, n)
	errc := make(chan error, 1)
	go func() {
		for i := range n {
			bufs[i] = segsOf(i, 3)
			ov, err := h.send(i, bufs[i], 0)
			if err != ErrIOPending {
				errc <- err
				return
			}
			ovs[i] = ov
		}
		errc <- nil
	}()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("Send: %v, want ErrIOPending", err)
		}
	case <-time.After(testDeadline):
		t.Fatal("sends did not return while the loop was busy: Send blocks")
	}
	if len(h.fc.writes()) != 0 {
		t.Fatal("the socket wrote while its loop was blocked")
	}
	release()

	for i, ov := range ovs {
		got, err := waitOv(t, ov)
		if err != nil || got != bufs[i].Len() {
			t.Errorf("send %d: overlapped (%d, %v), want (%d, nil)", i, got, err, bufs[i].Len())
		}
	}
	byTag := h.checkOnce(n)
	for i, c := range byTag {
		if c != nil && (c.Bytes != bufs[i].Len() || c.Err != nil || c.Overlapped != ovs[i]) {
			t.Errorf("send %d: completion (%d, %v), want (%d, nil)", i, c.Bytes, c.Err, bufs[i].Len())
		}
	}
	if got := tags(h.col.completions()); !ascending(got) {
		t.Errorf("completions out of submission order: %v...", got[:min(20, len(got))])
	}

	writes := h.fc.writes()
	if len(writes) > 5 {
		t.Errorf("%d writev calls for %d queued sends, want <= 5 (coalesced)", len(writes), n)
	}
	for _, w := range writes {
		if w.Segs > wsabuf.MaxIOV {
			t.Errorf("writev with %d segments, limit %d", w.Segs, wsabuf.MaxIOV)
		}
	}
	if want := concat(bufs...); !bytes.Equal(h.fc.wireBytes(), want) {
		t.Errorf("wire is not the concatenation of the sends in order")
	}
	if s, b := h.sock.Pending(); s != 0 || b != 0 {
		t.Errorf("Pending() = (%d, %d) after all completions, want (0, 0)", s, b)
	}
	t.Logf("%d sends, %d segments: %d writev calls", n, 3*n, len(writes))
}

func ascending(xs []int) bool {
	for i := 1; i < len(xs); i++ {
		if xs[i] <= xs[i-1] {
			return false
		}
	}
	return true
}

// Clause 3: one send of more segments than the OS iovec limit is split into
// several writes of at most MaxIOV segments that stay contiguous and in order.
func TestClause3SendOverIOVLimitIsSplit(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)
	a := segsOf(0, 2500)
	b := segsOf(1, 2)
	release := h.fc.block(t)
	ova, _ := h.send(0, a, 0)
	ovb, _ := h.send(1, b, 0)
	release()
	if n, err := waitOv(t, ova); n != a.Len() || err != nil {
		t.Errorf("big send: (%d, %v), want (%d, nil)", n, err, a.Len())
	}
	if n, err := waitOv(t, ovb); n != b.Len() || err != nil {
		t.Errorf("small send: (%d, %v), want (%d, nil)", n, err, b.Len())
	}
	h.checkOnce(2)
	writes := h.fc.writes()
	if len(writes) != 3 {
		t.Errorf("%d writes for 2502 segments, want 3", len(writes))
	}
	for _, w := range writes {
		if w.Segs > wsabuf.MaxIOV {
			t.Errorf("writev with %d segments", w.Segs)
		}
	}
	if !bytes.Equal(h.fc.wireBytes(), concat(a, b)) {
		t.Error("wire is not a followed by b")
	}
}

// Clauses 4, 9 and 10: partial writes (7 bytes per writev, then EAGAIN) are
// resumed on Writable at the exact byte; each send completes once with its
// full count, in submission order. Run with a wrapped EAGAIN, a bare one, and
// a short count with a nil error.
func TestClause9PartialWrites(t *testing.T) {
	for _, mode := range []string{"wrapped", "bare", "short-nil"} {
		t.Run(mode, func(t *testing.T) {
			h := newHarness(t, ConnInfo{}, Options{}, nil)
			h.fc.mu.Lock()
			h.fc.perCall = 7
			h.fc.bareEAGAIN = mode == "bare"
			h.fc.shortNil = mode == "short-nil"
			h.fc.mu.Unlock()

			sends := []wsabuf.Buffers{
				{[]byte("abc")},
				{[]byte("0123456789")},
				{[]byte("ABCDEFGH"), []byte("IJKLMNOP"), []byte("QRST")},
				{[]byte("x")},
				{[]byte("hello, "), []byte(""), []byte("world!")},
			}
			ovs := make([]*Overlapped, len(sends))
			for i, b := range sends {
				var err error
				if ovs[i], err = h.send(i, b, 0); err != ErrIOPending {
					t.Fatalf("send %d: %v", i, err)
				}
			}
			all := make(chan struct{})
			go func() {
				for _, ov := range ovs {
					<-ov.Done()
				}
				close(all)
			}()
			timeout := time.After(testDeadline)
			wakes := 0
		drive:
			for {
				select {
				case <-all:
					break drive
				case <-h.fc.awaitSig:
					wakes++
					h.fc.writable()
				case <-timeout:
					t.Fatalf("sends not done within %v after %d Writable calls", testDeadline, wakes)
				}
			}
			for i, ov := range ovs {
				n, err := waitOv(t, ov)
				if n != sends[i].Len() || err != nil {
					t.Errorf("send %d: (%d, %v), want (%d, nil)", i, n, err, sends[i].Len())
				}
			}
			byTag := h.checkOnce(len(sends))
			for i, c := range byTag {
				if c != nil && (c.Bytes != sends[i].Len() || c.Err != nil) {
					t.Errorf("send %d completion (%d, %v)", i, c.Bytes, c.Err)
				}
			}
			if got := tags(h.col.completions()); !ascending(got) {
				t.Errorf("completion order %v", got)
			}
			if !bytes.Equal(h.fc.wireBytes(), concat(sends...)) {
				t.Errorf("wire %q, want %q", h.fc.wireBytes(), concat(sends...))
			}
			for _, w := range h.fc.writes() {
				if w.N > 7 {
					t.Errorf("a write took %d bytes, more than the 7 allowed", w.N)
				}
			}
			if wakes == 0 {
				t.Error("no AwaitWritable: partial writes were not waited for")
			}
		})
	}
}

// Clause 3: a send with no buffers completes with 0 bytes and no error, in
// order behind earlier sends (also behind a partly written one).
func TestClause3ZeroBuffers(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)

	// Alone on an idle socket.
	ov, err := h.send(0, nil, 0)
	if err != ErrIOPending {
		t.Fatalf("Send(nil): %v", err)
	}
	if n, err := waitOv(t, ov); n != 0 || err != nil {
		t.Errorf("zero send: (%d, %v), want (0, nil)", n, err)
	}

	// Behind a send the writer is stuck in the middle of.
	h.fc.setBudget(2)
	a := wsabuf.Buffers{[]byte("aaaa")}
	b := wsabuf.Buffers{[]byte("bb")}
	release := h.fc.block(t)
	ova, _ := h.send(1, a, 0)
	ovz, _ := h.send(2, wsabuf.Buffers{}, 0)
	ovy, _ := h.send(3, wsabuf.Buffers{nil, []byte{}}, 0)
	ovb, _ := h.send(4, b, 0)
	release()
	h.fc.waitAwait(t)
	h.fc.sync(t)
	for i, ov := range []*Overlapped{ova, ovz, ovy, ovb} {
		if _, _, done := ov.Result(); done {
			t.Errorf("send %d completed while the one before it is partly written", i+1)
		}
	}
	h.fc.setBudget(-1)
	h.fc.writable()
	for i, ov := range []*Overlapped{ova, ovz, ovy, ovb} {
		n, err := waitOv(t, ov)
		want := []int{4, 0, 0, 2}[i]
		if n != want || err != nil {
			t.Errorf("send %d: (%d, %v), want (%d, nil)", i+1, n, err, want)
		}
	}
	h.checkOnce(5)
	if got := tags(h.col.completions()); !ascending(got) {
		t.Errorf("completion order %v, want submission order", got)
	}
	if got := h.fc.wireBytes(); string(got) != "aaaabb" {
		t.Errorf("wire %q", got)
	}
	for _, w := range h.fc.writes() {
		if w.Offered == 0 {
			t.Errorf("an empty write was issued: %+v", w)
		}
	}
}

// Clauses 6 and 20 (WSAEOPNOTSUPP): unknown flag bits, MsgPartial on a
// stream and MsgOOB on a datagram socket fail at once and send nothing;
// MsgOOB on a stream goes via SendMsg with the flag, after every earlier send
// and before later ones.
func TestClause6Flags(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)
	for i, f := range []Flags{1 << 7, MsgPartial, MsgPartial | MsgOOB} {
		ov, err := h.send(i, wsabuf.Buffers{[]byte("nope")}, f)
		if !errors.Is(err, ErrOpNotSupported) {
			t.Errorf("flags %v: Send returned %v, want ErrOpNotSupported", f, err)
		}
		if n, err := waitOv(t, ov); n != 0 || !errors.Is(err, ErrOpNotSupported) {
			t.Errorf("flags %v: completion (%d, %v)", f, n, err)
		}
	}
	h.checkOnce(3)
	h.fc.sync(t)
	if len(h.fc.writes()) != 0 {
		t.Errorf("refused sends reached the wire: %q", h.fc.wireBytes())
	}

	// OOB ordering on a stream.
	release := h.fc.block(t)
	var ovs []*Overlapped
	for i, s := range []struct {
		data  string
		flags Flags
	}{{"A1", 0}, {"A2", 0}, {"!", MsgOOB}, {"B1", 0}, {"D", MsgDontRoute}, {"B2", 0}} {
		ov, err := h.send(3+i, wsabuf.Buffers{[]byte(s.data)}, s.flags)
		if err != ErrIOPending {
			t.Fatalf("send %q: %v", s.data, err)
		}
		ovs = append(ovs, ov)
	}
	release()
	for _, ov := range ovs {
		if _, err := waitOv(t, ov); err != nil {
			t.Errorf("send: %v", err)
		}
	}
	if got := string(h.fc.wireBytes()); got != "A1A2!B1DB2" {
		t.Errorf("wire %q, want %q", got, "A1A2!B1DB2")
	}
	var log []string
	for _, w := range h.fc.writes() {
		log = append(log, w.Op+"/"+w.Flags.String())
	}
	want := []string{"writev/0", "sendmsg/MSG_OOB", "writev/0", "sendmsg/MSG_DONTROUTE", "writev/0"}
	if len(log) != len(want) {
		t.Fatalf("write calls %v, want %v", log, want)
	}
	for i := range want {
		if log[i] != want[i] {
			t.Errorf("write calls %v, want %v", log, want)
			break
		}
	}
	if w := h.fc.writes()[1]; w.WireAt != 4 || w.N != 1 {
		t.Errorf("OOB write at wire offset %d (took %d), want offset 4", w.WireAt, w.N)
	}
}

// Clause 6: MsgOOB on a datagram socket fails with ErrOpNotSupported.
func TestClause6OOBOnDatagram(t *testing.T) {
	h := newHarness(t, ConnInfo{Network: "udp", Datagram: true, Connected: true, MaxMsgSize: 100}, Options{}, nil)
	ov, err := h.send(0, wsabuf.Buffers{[]byte("urgent")}, MsgOOB)
	if !errors.Is(err, ErrOpNotSupported) {
		t.Errorf("Send: %v, want ErrOpNotSupported", err)
	}
	if n, err := waitOv(t, ov); n != 0 || !errors.Is(err, ErrOpNotSupported) {
		t.Errorf("completion (%d, %v)", n, err)
	}
	h.fc.sync(t)
	if len(h.fc.writes()) != 0 {
		t.Error("refused OOB datagram reached the wire")
	}
}

// Clauses 7, 11 and 12: datagram sockets.
func TestClause7Datagram(t *testing.T) {
	info := ConnInfo{Network: "udp", Datagram: true, Connected: true, MaxMsgSize: 100}

	t.Run("too-large", func(t *testing.T) { // clause 11
		h := newHarness(t, info, Options{}, nil)
		if got := h.sock.MaxMsgSize(); got != 100 {
			t.Errorf("MaxMsgSize() = %d, want 100", got)
		}
		ov, err := h.send(0, wsabuf.Buffers{sized(60, 'a'), sized(41, 'b')}, 0)
		if !errors.Is(err, ErrMsgSize) {
			t.Errorf("101-byte datagram: %v, want ErrMsgSize", err)
		}
		if n, err := waitOv(t, ov); n != 0 || !errors.Is(err, ErrMsgSize) {
			t.Errorf("completion (%d, %v)", n, err)
		}
		ok, err := h.send(1, wsabuf.Buffers{sized(100, 'c')}, 0)
		if err != ErrIOPending {
			t.Fatalf("100-byte datagram: %v", err)
		}
		if n, err := waitOv(t, ok); n != 100 || err != nil {
			t.Errorf("100-byte datagram: (%d, %v)", n, err)
		}
		if dg := h.fc.datagrams(); len(dg) != 1 || !bytes.Equal(dg[0], sized(100, 'c')) {
			t.Errorf("datagrams on the wire: %d, want just the 100-byte one", len(dg))
		}
		h.checkOnce(2)
	})

	t.Run("partial-pieces", func(t *testing.T) { // clause 7
		h := newHarness(t, info, Options{}, nil)
		p1, _ := h.send(0, wsabuf.Buffers{[]byte("he"), []byte("ll")}, MsgPartial)
		p2, _ := h.send(1, wsabuf.Buffers{[]byte("o, ")}, MsgPartial)
		h.fc.sync(t)
		if len(h.fc.writes()) != 0 {
			t.Fatal("a partial piece went out before the message's last piece")
		}
		if _, _, done := p1.Result(); done {
			t.Fatal("a partial piece completed before the message's last piece")
		}
		p3, err := h.send(2, wsabuf.Buffers{[]byte("world")}, 0)
		if err != ErrIOPending {
			t.Fatalf("last piece: %v", err)
		}
		for i, ov := range []*Overlapped{p1, p2, p3} {
			n, err := waitOv(t, ov)
			if want := []int{4, 3, 5}[i]; n != want || err != nil {
				t.Errorf("piece %d: (%d, %v), want (%d, nil)", i, n, err, want)
			}
		}
		h.checkOnce(3)
		if w := h.fc.writes(); len(w) != 1 || w[0].Segs != 4 || w[0].N != 12 {
			t.Errorf("writes %+v, want one sendmsg of 4 segments and 12 bytes", w)
		}
		if dg := h.fc.datagrams(); len(dg) != 1 || string(dg[0]) != "hello, world" {
			t.Errorf("datagrams %q, want one %q", dg, "hello, world")
		}
	})

	t.Run("pieces-too-large", func(t *testing.T) { // clauses 7 and 11
		h := newHarness(t, info, Options{}, nil)
		p1, err1 := h.send(0, wsabuf.Buffers{sized(60, 'x')}, MsgPartial)
		p2, err2 := h.send(1, wsabuf.Buffers{sized(41, 'y')}, 0)
		if err1 != ErrIOPending || err2 != ErrIOPending {
			t.Fatalf("pieces: %v, %v", err1, err2)
		}
		for i, ov := range []*Overlapped{p1, p2} {
			if n, err := waitOv(t, ov); n != 0 || !errors.Is(err, ErrMsgSize) {
				t.Errorf("piece %d: (%d, %v), want (0, ErrMsgSize)", i, n, err)
			}
		}
		h.checkOnce(2)
		if len(h.fc.writes()) != 0 {
			t.Error("an oversized gathered datagram reached the wire")
		}
		// The socket still works.
		ov, _ := h.send(2, wsabuf.Buffers{[]byte("after")}, 0)
		if n, err := waitOv(t, ov); n != 5 || err != nil {
			t.Errorf("datagram after ErrMsgSize: (%d, %v)", n, err)
		}
	})

	t.Run("unconnected", func(t *testing.T) { // clause 12
		h := newHarness(t, ConnInfo{Network: "udp", Datagram: true, MaxMsgSize: 100}, Options{}, nil)
		ov, err := h.send(0, wsabuf.Buffers{[]byte("x")}, 0)
		if !errors.Is(err, ErrNotConn) {
			t.Errorf("Send on an unconnected datagram socket: %v, want ErrNotConn", err)
		}
		if n, err := waitOv(t, ov); n != 0 || !errors.Is(err, ErrNotConn) {
			t.Errorf("completion (%d, %v)", n, err)
		}
		h.fc.sync(t)
		if len(h.fc.writes()) != 0 {
			t.Error("a send on an unconnected socket reached the wire")
		}
	})

	t.Run("eagain-retries-whole", func(t *testing.T) {
		h := newHarness(t, info, Options{}, nil)
		h.fc.setBudget(3)
		ov, _ := h.send(0, wsabuf.Buffers{[]byte("whole")}, 0)
		h.fc.waitAwait(t)
		if _, _, done := ov.Result(); done {
			t.Fatal("datagram completed although the fake refused it with EAGAIN")
		}
		h.fc.setBudget(-1)
		h.fc.writable()
		if n, err := waitOv(t, ov); n != 5 || err != nil {
			t.Errorf("datagram after EAGAIN: (%d, %v)", n, err)
		}
		if dg := h.fc.datagrams(); len(dg) != 1 || string(dg[0]) != "whole" {
			t.Errorf("datagrams %q", dg)
		}
	})
}

// Clause 19: the error the fake injects, bare or wrapped, is classified and
// kept as the cause.
func TestClause19InjectedErrorForms(t *testing.T) {
	for _, tc := range []struct {
		inj   error
		errno syscall.Errno
	}{
		{&os.SyscallError{Syscall: "writev", Err: syscall.EPIPE}, syscall.EPIPE},
		{syscall.ECONNRESET, syscall.ECONNRESET},
	} {
		h := newHarness(t, ConnInfo{}, Options{}, nil)
		h.fc.failWhenWireHas(0, tc.inj)
		ov, _ := h.send(0, wsabuf.Buffers{[]byte("doomed")}, 0)
		n, err := waitOv(t, ov)
		if n != 0 || !errors.Is(err, ErrConnReset) || !errors.Is(err, tc.errno) {
			t.Errorf("injected %v: completion (%d, %v), want (0, ErrConnReset wrapping %v)", tc.inj, n, err, tc.errno)
		}
	}
}
