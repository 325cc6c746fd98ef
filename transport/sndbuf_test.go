package transport

import (
	"errors"
	"net"
	"testing"
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/wsabuf"
)

// Options.SendBuffer sets SO_SNDBUF: with a small one, 2 MiB sent to a peer
// that never reads backs up in the socket's own queue, past a 1.75 MiB high
// watermark, instead of vanishing into a kernel buffer that Linux would
// otherwise grow to megabytes.
func TestSendBufferKeepsBacklogInTheQueue(t *testing.T) {
	const total, chunk = 2 << 20, 16 << 10
	unwritable := make(chan int, 1)
	connected := make(chan *actor.Socket, 1)
	props := protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		switch m := ctx.Message().(type) {
		case *actor.Connected:
			connected <- m.Socket
		case *actor.Unwritable:
			unwritable <- m.Pending
		case *actor.Received:
			m.Data.Release()
		}
	})
	_, e := startEngine(t, Config{})
	opts := actor.Options{SendBuffer: 8 << 10, MaxPendingBytes: 4 << 20, HighWatermark: 1792 << 10}
	l, err := e.Listen("tcp", "127.0.0.1:0", props, WithSocketOptions(opts))
	if err != nil {
		t.Fatal(err)
	}
	peer := dialPeer(t, l)
	_ = peer.(*net.TCPConn).SetReadBuffer(4 << 10) // and it never reads
	sock := acceptSocket(t, connected)
	payload := make([]byte, chunk)
	for sent := 0; sent < total; sent += chunk {
		if err := sock.Send(&actor.Send{Buffers: wsabuf.Buffers{payload}}); !errors.Is(err, actor.ErrIOPending) {
			t.Fatal(err)
		}
	}
	select {
	case pending := <-unwritable:
		if pending < 1792<<10 {
			t.Fatalf("Unwritable at %d pending bytes", pending)
		}
	case <-time.After(testDeadline):
		_, pb := sock.Pending()
		t.Fatalf("no Unwritable: %d bytes pending of %d sent; the kernel took the rest", pb, total)
	}
	_ = sock.Abort()
}
