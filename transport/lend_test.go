package transport

import (
	"bytes"
	"io"
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
