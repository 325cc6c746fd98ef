package transport

import (
	"io"
	"testing"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/wsabuf"
)

// benchSocket is a socket whose peer drains everything, with limits high
// enough that a benchmark's sends are never refused.
func benchSocket(b *testing.B) (*actor.System, *actor.Socket) {
	sys, e := startEngine(b, Config{Loops: 1, Socket: actor.Options{MaxPendingBytes: 1 << 30, MaxPendingSends: 1 << 24}})
	socks := make(chan *actor.Socket, 1)
	l, err := e.Listen("tcp", "127.0.0.1:0", socketsProps(socks))
	if err != nil {
		b.Fatal(err)
	}
	peer := dialPeer(b, l)
	drain(peer)
	return sys, acceptSocket(b, socks)
}

// waitIdle waits until every send so far has completed.
func waitIdle(s *actor.Socket) {
	ov := &actor.Overlapped{}
	if s.Send(&actor.Send{Overlapped: ov}) == actor.ErrIOPending {
		<-ov.Done()
	}
}

// A send of one 128-byte buffer from a goroutine, no completion asked.
func BenchmarkSendFromGoroutine(b *testing.B) {
	_, s := benchSocket(b)
	payload := make([]byte, 128)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.Send(&actor.Send{Buffers: wsabuf.Buffers{payload}}); err != actor.ErrIOPending {
			b.Fatal(err)
		}
	}
	waitIdle(s)
}

// A send of one 128-byte buffer from an actor with ctx.Send to the socket's
// PID: the actor path of the allocation target.
func BenchmarkSendFromActor(b *testing.B) {
	sys, s := benchSocket(b)
	payload := make([]byte, 128)
	done := make(chan struct{})
	sender := sys.Actors.Root.Spawn(protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		if n, ok := ctx.Message().(int); ok {
			for i := 0; i < n; i++ {
				ctx.Send(s.PID(), &actor.Send{Buffers: wsabuf.Buffers{payload}})
			}
			done <- struct{}{}
		}
	}))
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	sys.Actors.Root.Send(sender, b.N)
	<-done
	waitIdle(s)
}

// A send with an Overlapped completion a goroutine waits on, one at a time:
// the latency of submit, write and completion.
func BenchmarkSendOverlappedWait(b *testing.B) {
	_, s := benchSocket(b)
	payload := make([]byte, 128)
	var ov actor.Overlapped
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.Send(&actor.Send{Buffers: wsabuf.Buffers{payload}, Overlapped: &ov}); err != actor.ErrIOPending {
			b.Fatal(err)
		}
		<-ov.Done()
	}
}

// One echo round trip of 512 bytes through a socket actor, client and
// server in this process: the allocations of the whole echo path.
func BenchmarkEchoRoundTrip(b *testing.B) {
	_, e := startEngine(b, Config{Loops: 1})
	l, err := e.Listen("tcp", "127.0.0.1:0", echoProps())
	if err != nil {
		b.Fatal(err)
	}
	c := dialPeer(b, l)
	msg := make([]byte, 512)
	in := make([]byte, 512)
	b.ReportAllocs()
	b.SetBytes(512)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, in); err != nil {
			b.Fatal(err)
		}
	}
}
