package transport

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"
	"go.uber.org/atomic"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/wsabuf"
)

// lendPattern is n bytes that no shifted or reused read buffer reproduces.
func lendPattern(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*7 + i/251)
	}
	return p
}

// Options.LendReceived: Data a handler keeps past Receive (no send at all)
// keeps its bytes, and during Receive it really is lent.
func TestLendReceivedKeptDataIsCopied(t *testing.T) {
	const total = 256 << 10
	var lent atomic.Int32
	var kept []*wsabuf.Buf
	var n int
	props := protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		m, ok := ctx.Message().(*actor.Received)
		if !ok {
			return
		}
		if m.Data.Lent() {
			lent.Inc()
		}
		kept = append(kept, m.Data)
		if n += m.Data.Len(); n < total {
			return
		}
		for _, b := range kept { // all read: send them back, after many reads reused gnet's buffer
			_ = m.Socket.Send(&actor.Send{Buffers: wsabuf.Buffers{b.Bytes()}, Hold: b})
		}
		kept = nil
	})
	_, e := startEngine(t, Config{})
	l, err := e.Listen("tcp", "127.0.0.1:0", props, WithSocketOptions(actor.Options{LendReceived: true}))
	if err != nil {
		t.Fatal(err)
	}
	c := dialPeer(t, l)
	want := lendPattern(total)
	for off := 0; off < total; off += 1000 { // many small writes, many reads
		end := min(off+1000, total)
		if _, err := c.Write(want[off:end]); err != nil {
			t.Fatal(err)
		}
	}
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	got := make([]byte, total)
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if i := firstDiff(got, want); i >= 0 {
		t.Fatalf("kept data differs from byte %d on", i)
	}
	if lent.Load() == 0 {
		t.Fatal("no Received.Data was lent")
	}
}

// Options.LendReceived: echoed sends that cannot complete at once (the
// peer is not reading yet) hold lent bytes past Receive; they must carry
// their own copy, since the loop reuses its buffer for the next reads. Send
// queues them (Own on enqueue); SendFrom writes what it can at once and
// keeps the rest (Own of the unsent segments).
func TestLendReceivedEchoOutlivesReads(t *testing.T) {
	for _, from := range []bool{false, true} {
		name := map[bool]string{false: "Send", true: "SendFrom"}[from]
		t.Run(name, func(t *testing.T) { testLendEchoOutlivesReads(t, from) })
	}
}

func testLendEchoOutlivesReads(t *testing.T, sendFrom bool) {
	const (
		total   = 16 << 20 // well past what the kernel buffers on loopback
		backlog = 512 << 10
	)
	var lent, failed atomic.Int32
	backedUp := make(chan struct{})
	var once sync.Once
	props := protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		m, ok := ctx.Message().(*actor.Received)
		if !ok {
			return
		}
		if m.Data.Lent() {
			lent.Inc()
		}
		send := &actor.Send{Buffers: wsabuf.Buffers{m.Data.Bytes()}, Hold: m.Data}
		var err error
		if sendFrom {
			_, err = m.Socket.SendFrom(ctx, send)
		} else {
			err = m.Socket.Send(send)
		}
		if err != nil && !errors.Is(err, actor.ErrIOPending) {
			failed.Inc()
		}
		if _, b := m.Socket.Pending(); b >= backlog {
			once.Do(func() { close(backedUp) })
		}
	})
	_, e := startEngine(t, Config{})
	// Reading pauses while 1 MiB of echo waits, so the backlog stays
	// under MaxPendingBytes and no send is refused.
	opts := actor.Options{LendReceived: true, MaxUnreleasedRead: 1 << 20}
	l, err := e.Listen("tcp", "127.0.0.1:0", props, WithSocketOptions(opts))
	if err != nil {
		t.Fatal(err)
	}
	c := dialPeer(t, l)
	// A small window, so the echo backs up. (Much smaller than loopback's
	// 64 KiB segments and Linux stalls the stream itself, with a plain
	// net.Conn echo server too.)
	if err := c.(*net.TCPConn).SetReadBuffer(64 << 10); err != nil {
		t.Fatal(err)
	}
	want := lendPattern(total)
	werr := make(chan error, 1)
	go func() { _, err := c.Write(want); werr <- err }()
	select { // read nothing until sends wait on the socket
	case <-backedUp:
	case err := <-werr:
		t.Fatalf("all written (err %v) and the echo never backed up", err)
	case <-time.After(testDeadline):
		t.Fatal("the echo never backed up")
	}
	got := readN(t, c, total)
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
	if i := firstDiff(got, want); i >= 0 {
		t.Fatalf("echo differs from byte %d on", i)
	}
	if lent.Load() == 0 || failed.Load() != 0 {
		t.Fatalf("lent reads %d, failed sends %d: want some, none", lent.Load(), failed.Load())
	}
}

// firstDiff returns the first index where a and b differ, or -1.
func firstDiff(a, b []byte) int {
	if bytes.Equal(a, b) {
		return -1
	}
	for i := range a {
		if i >= len(b) || a[i] != b[i] {
			return i
		}
	}
	return len(a)
}
