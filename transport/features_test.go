package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/wsabuf"
)

// Issue item 4: sends that queue while the loop is busy leave as far fewer
// gather writes, none over 1,024 segments, each send still completed with its
// own byte count.
func TestCoalescingCountsWrites(t *testing.T) {
	var writes, maxSegs atomic.Int64
	testHookWritev = func(segs, n int) {
		writes.Add(1)
		if int64(segs) > maxSegs.Load() {
			maxSegs.Store(int64(segs))
		}
	}
	defer func() { testHookWritev = nil }()

	_, e := startEngine(t, Config{Socket: actor.Options{MaxPendingBytes: 64 << 20, MaxPendingSends: 1 << 20}})
	socks := make(chan *actor.Socket, 1)
	blocked, release := make(chan struct{}), make(chan struct{})
	// The handler blocks its event loop on request, so that the sends below
	// queue up behind it, as they do behind a busy loop.
	props := protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		switch m := ctx.Message().(type) {
		case *actor.Connected:
			socks <- m.Socket
		case string:
			close(blocked)
			<-release
		}
	})
	l, err := e.Listen("tcp", "127.0.0.1:0", props)
	if err != nil {
		t.Fatal(err)
	}
	peer := dialPeer(t, l)
	s := acceptSocket(t, socks)
	got := drain(peer)
	const sends = 4000
	var led ledger
	e.sys.Actors.Root.Send(s.PID(), "block")
	<-blocked
	writes.Store(0)
	fill(t, &led, s, sends, 64)
	close(release)
	sent, errs := led.wait(t)
	if errs["ok"] != sends || sent != sends*64 {
		t.Fatalf("completions %v, bytes %d", errs, sent)
	}
	// 4,000 sends of 2 segments: at least 8 writes of 1,024 segments.
	if w := writes.Load(); w > 16 {
		t.Fatalf("%d sends took %d writev calls: not coalesced", sends, w)
	}
	t.Logf("%d sends took %d writev calls", sends, writes.Load())
	if m := maxSegs.Load(); m > wsabuf.MaxIOV {
		t.Fatalf("a writev had %d segments, limit %d", m, wsabuf.MaxIOV)
	}
	s.Close()
	if r := <-got; r != sent {
		t.Fatalf("peer got %d, want %d", r, sent)
	}
}

// Issue item 5 and clause 15: a peer that stops reading; the socket's pending
// bytes never pass the limit, sends past it fail at once with ErrWouldBlock
// and are never sent, and the watermark messages arrive in order.
func TestBackpressureWithStalledPeer(t *testing.T) {
	const limit = 1 << 20
	sys, e := startEngine(t, Config{})
	socks := make(chan *actor.Socket, 1)
	marks := make(chan any, 16)
	props := protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		switch m := ctx.Message().(type) {
		case *actor.Connected:
			socks <- m.Socket
		case *actor.Unwritable, *actor.Writable:
			marks <- m
		}
	})
	_ = sys
	l, err := e.Listen("tcp", "127.0.0.1:0", props, WithSocketOptions(actor.Options{MaxPendingBytes: limit, HighWatermark: limit / 2, LowWatermark: limit / 8}))
	if err != nil {
		t.Fatal(err)
	}
	peer := dialPeer(t, l)
	s := acceptSocket(t, socks)
	chunk := make([]byte, 16<<10)
	var led ledger
	// Send until the kernel's buffers are full and the socket says
	// Unwritable; each refusal waits for the oldest pending send instead.
	refused, oldest := 0, 0
	deadline := time.After(testDeadline)
	for unwritable := false; !unwritable; {
		err := led.send(t, s, chunk)
		if _, b := s.Pending(); b > limit {
			t.Fatalf("pending bytes %d passed the limit %d", b, limit)
		}
		switch {
		case err == actor.ErrIOPending:
			continue
		case !errors.Is(err, actor.ErrWouldBlock):
			t.Fatal(err)
		}
		refused++
		led.ovs, led.sizes = led.ovs[:len(led.ovs)-1], led.sizes[:len(led.sizes)-1]
		for oldest < len(led.ovs) && !led.ovs[oldest].Pending() {
			oldest++
		}
		var next <-chan struct{}
		if oldest < len(led.ovs) {
			next = led.ovs[oldest].Done()
		}
		select {
		case m := <-marks:
			if _, ok := m.(*actor.Unwritable); !ok {
				t.Fatalf("first watermark message %T, want *Unwritable", m)
			}
			unwritable = true
		case <-next:
		case <-deadline:
			t.Fatal("no Unwritable from a peer that never reads")
		}
	}
	if refused == 0 {
		t.Fatal("a peer that never reads never pushed back")
	}
	got := drain(peer)
	sent, errs := led.wait(t)
	if errs["ok"] != len(led.ovs) {
		t.Fatalf("completions %v", errs)
	}
	select {
	case m := <-marks:
		if _, ok := m.(*actor.Writable); !ok {
			t.Fatalf("second watermark message %T, want *Writable", m)
		}
	case <-time.After(testDeadline):
		t.Fatal("no Writable after the peer drained")
	}
	s.Close()
	if r := <-got; r != sent {
		t.Fatalf("peer got %d bytes, %d reported: a refused send leaked onto the wire", r, sent)
	}
}

// Clause 6: MSG_OOB on a stream socket sends urgent data after every earlier
// send.
func TestOOBOnStream(t *testing.T) {
	_, _, s, peer := connectedPair(t, "tcp", "127.0.0.1:0", Config{})
	ov := &actor.Overlapped{}
	_ = s.Send(&actor.Send{Buffers: wsabuf.Buffers{[]byte("normal")}})
	_ = s.Send(&actor.Send{Buffers: wsabuf.Buffers{[]byte("!")}, Flags: actor.MsgOOB, Overlapped: ov})
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	if n, err := ov.Wait(ctx); err != nil || n != 1 {
		t.Fatalf("OOB send: %d, %v", n, err)
	}
	if got := readN(t, peer, 6); string(got) != "normal" {
		t.Fatalf("in-band bytes %q", got)
	}
	oob, n, rerr := recvOOB(peer)
	if rerr != nil || n != 1 || oob[0] != '!' {
		t.Fatalf("urgent byte: %q, %v", oob[:n], rerr)
	}
}

// Clauses 1, 7, 11, 12: a dialed UDP socket sends datagrams to its peer;
// MSG_PARTIAL pieces leave as one datagram; an oversized one fails with
// ErrMsgSize and nothing is sent.
func TestUDPDialDatagrams(t *testing.T) {
	_, e := startEngine(t, Config{})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	_ = pc.SetDeadline(time.Now().Add(testDeadline))
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	s, err := e.Dial(ctx, "udp", pc.LocalAddr().String(), protoactor.PropsFromFunc(func(protoactor.Context) {}))
	if err != nil {
		t.Fatal(err)
	}
	if s.MaxMsgSize() != 65507 {
		t.Fatalf("MaxMsgSize %d, want 65507", s.MaxMsgSize())
	}
	big := &actor.Overlapped{}
	if err := s.Send(&actor.Send{Buffers: wsabuf.Buffers{make([]byte, 70000)}, Overlapped: big}); !errors.Is(err, actor.ErrMsgSize) {
		t.Fatalf("oversized datagram: %v, want ErrMsgSize", err)
	}
	_ = s.Send(&actor.Send{Buffers: wsabuf.Buffers{[]byte("one ")}, Flags: actor.MsgPartial})
	_ = s.Send(&actor.Send{Buffers: wsabuf.Buffers{[]byte("datagram")}, Flags: actor.MsgPartial})
	last := &actor.Overlapped{}
	_ = s.Send(&actor.Send{Buffers: wsabuf.Buffers{[]byte("!")}, Overlapped: last})
	if n, err := last.Wait(ctx); err != nil || n != 1 {
		t.Fatalf("last piece: %d, %v", n, err)
	}
	buf := make([]byte, 70000)
	n, _, err := pc.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "one datagram!" {
		t.Fatalf("datagram %q, %v; want the pieces as one", buf[:n], err)
	}
	if _, err, _ := big.Result(); !errors.Is(err, actor.ErrMsgSize) {
		t.Fatalf("oversized completion: %v", err)
	}
	if err := s.Send(&actor.Send{Buffers: wsabuf.Buffers{[]byte("x")}, Flags: actor.MsgOOB}); !errors.Is(err, actor.ErrOpNotSupported) {
		t.Fatalf("MSG_OOB on UDP: %v, want ErrOpNotSupported", err)
	}
}

// Issue item 11: one reference-counted buffer broadcast to many sockets goes
// back to its pool only after the last completion; the pool poisons released
// buffers, and every peer still receives the right bytes.
func TestBroadcastPoisonedPool(t *testing.T) {
	_, e := startEngine(t, Config{})
	socks := make(chan *actor.Socket, 64)
	l, err := e.Listen("tcp", "127.0.0.1:0", socketsProps(socks))
	if err != nil {
		t.Fatal(err)
	}
	const peers, rounds = 20, 50
	var conns []net.Conn
	var ss []*actor.Socket
	for i := 0; i < peers; i++ {
		conns = append(conns, dialPeer(t, l))
		ss = append(ss, acceptSocket(t, socks))
	}
	pool := wsabuf.NewPool(wsabuf.PoolConfig{Poison: true})
	var want bytes.Buffer
	for r := 0; r < rounds; r++ {
		msg, err := pool.Get(256)
		if err != nil {
			t.Fatal(err)
		}
		for i := range msg.Bytes() {
			msg.Bytes()[i] = byte('A' + r%26)
		}
		want.Write(msg.Bytes())
		msg.Retain(peers - 1)
		for _, s := range ss {
			if err := s.Send(&actor.Send{Buffers: wsabuf.Buffers{msg.Bytes()}, Hold: msg}); err != actor.ErrIOPending {
				t.Fatal(err)
			}
		}
	}
	for i, c := range conns {
		got := make([]byte, want.Len())
		if _, err := io.ReadFull(c, got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("peer %d received poisoned or wrong bytes", i)
		}
	}
	for _, s := range ss {
		s.Close()
	}
	deadline := time.Now().Add(testDeadline)
	for pool.InUse() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d bytes never went back to the pool", pool.InUse())
		}
		ov := &actor.Overlapped{}
		_ = ss[0].Send(&actor.Send{Overlapped: ov})
		<-ov.Done()
	}
}

// Clause 10: a blocking send times out with ErrTimedOut against a peer that
// does not read; TrySend reports a partial count with ErrWouldBlock.
func TestBlockingAndTrySend(t *testing.T) {
	_, e := startEngine(t, Config{Socket: actor.Options{SendTimeout: 200 * time.Millisecond, MaxPendingBytes: 64 << 20}})
	socks := make(chan *actor.Socket, 2)
	l, err := e.Listen("tcp", "127.0.0.1:0", socketsProps(socks))
	if err != nil {
		t.Fatal(err)
	}
	_ = dialPeer(t, l)
	s := acceptSocket(t, socks)
	big := make([]byte, 64<<20)
	n, err := s.TrySend(wsabuf.Buffers{big}, 0)
	if !errors.Is(err, actor.ErrWouldBlock) || n <= 0 || n >= len(big) {
		t.Fatalf("TrySend of 64 MiB to a stalled peer: %d, %v; want a partial count and ErrWouldBlock", n, err)
	}
	n, err = s.SendBlocking(context.Background(), wsabuf.Buffers{big}, 0)
	if !errors.Is(err, actor.ErrTimedOut) {
		t.Fatalf("blocking send to a stalled peer: %d, %v; want ErrTimedOut", n, err)
	}

	// A blocking send that completes normally, on a fresh connection.
	peer2 := dialPeer(t, l)
	s2 := acceptSocket(t, socks)
	got := drain(peer2)
	n, err = s2.SendBlocking(context.Background(), wsabuf.Buffers{[]byte("hello "), []byte("world")}, 0)
	if err != nil || n != 11 {
		t.Fatalf("blocking send: %d, %v", n, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s2.SendBlocking(ctx, wsabuf.Buffers{make([]byte, 64<<20)}, 0); !errors.Is(err, actor.ErrInterrupted) && err != nil {
		t.Fatalf("cancelled blocking send: %v, want ErrInterrupted (or success if it beat the cancel)", err)
	}
	s2.Close()
	if r := <-got; r < 11 {
		t.Fatalf("peer got %d bytes", r)
	}
}

// Clause 23 over real TCP: a confirmed send completes once the peer's kernel
// has acknowledged it.
func TestConfirmOverTCP(t *testing.T) {
	_, _, s, peer := connectedPair(t, "tcp", "127.0.0.1:0", Config{})
	ov := &actor.Overlapped{}
	if err := s.Send(&actor.Send{Buffers: wsabuf.Buffers{[]byte("acknowledge "), []byte("me")}, Flags: actor.MsgConfirm, Overlapped: ov}); err != actor.ErrIOPending {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	if n, err := ov.Wait(ctx); err != nil || n != 14 {
		t.Fatalf("confirmed send: %d, %v", n, err)
	}
	if got := readN(t, peer, 14); string(got) != "acknowledge me" {
		t.Fatalf("peer got %q", got)
	}
}

// Clause 16: a receive pool at its limit cannot keep the bytes read, so the
// connection closes rather than lose them; the handler's Closed and the
// pending sends carry ErrNoBufs.
func TestReadPoolExhaustedIsNoBufs(t *testing.T) {
	_, e := startEngine(t, Config{})
	h := &hoarder{sock: make(chan *actor.Socket, 1)}
	closed := make(chan error, 1)
	props := protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		switch m := ctx.Message().(type) {
		case *actor.Connected:
			h.sock <- m.Socket
		case *actor.Received:
			h.mu.Lock()
			h.held = append(h.held, m.Data) // never released before the close
			h.mu.Unlock()
		case *actor.Closed:
			closed <- m.Err
		}
	})
	pool := wsabuf.NewPool(wsabuf.PoolConfig{Limit: 4096})
	l, err := e.Listen("tcp", "127.0.0.1:0", props, WithSocketOptions(actor.Options{ReadPool: pool}))
	if err != nil {
		t.Fatal(err)
	}
	peer := dialPeer(t, l)
	_ = acceptSocket(t, h.sock)
	if _, err := peer.Write(make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-closed:
		if !errors.Is(err, actor.ErrNoBufs) {
			t.Fatalf("Closed with %v, want ErrNoBufs", err)
		}
	case <-time.After(testDeadline):
		t.Fatal("the connection stayed open with its pool exhausted")
	}
	h.releaseAll()
	if pool.InUse() != 0 {
		t.Fatalf("%d pool bytes not returned", pool.InUse())
	}
}

// Clause 5: MSG_DONTROUTE is accepted and applied (sendmsg with the flag);
// loopback is directly connected, so the bytes arrive.
func TestDontRoute(t *testing.T) {
	onEveryNetwork(t, func(t *testing.T, network, addr string) {
		_, _, s, peer := connectedPair(t, network, addr, Config{})
		ov := &actor.Overlapped{}
		_ = s.Send(&actor.Send{Buffers: wsabuf.Buffers{[]byte("not "), []byte("routed")}, Flags: actor.MsgDontRoute, Overlapped: ov})
		ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
		defer cancel()
		if n, err := ov.Wait(ctx); err != nil || n != 10 {
			t.Fatalf("MSG_DONTROUTE send on %s: %d, %v", network, n, err)
		}
		if got := readN(t, peer, 10); string(got) != "not routed" {
			t.Fatalf("peer got %q", got)
		}
	})
}
