package main

import (
	"context"
	"net"
	"testing"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/transport"
	"github.com/overlapio/overlap/wsabuf"
)

// fanInSenders is how many goroutines send to the one socket at once.
const fanInSenders = 64

// BenchmarkFanInOverlap: 64 goroutines send 64-byte frames to one socket,
// each keeping up to 16 in flight. Frames that queue while a write is in
// flight leave together in one writev.
func BenchmarkFanInOverlap(b *testing.B) {
	addr := drain(b)
	sys := actor.NewSystem()
	defer sys.Stop()
	eng, err := transport.NewEngine(sys, transport.Config{Loops: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = eng.Stop(context.Background()) }()
	sock, err := eng.Dial(context.Background(), "tcp", addr, protoactor.PropsFromFunc(func(protoactor.Context) {}))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(64)
	b.ReportAllocs()
	b.SetParallelism(fanInSenders / 2) // × GOMAXPROCS (2 here)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		const window = 16
		var ovs [window]actor.Overlapped
		frame := wsabuf.Buffers{make([]byte, 64)}
		i := 0
		for ; pb.Next(); i++ {
			ov := &ovs[i%window]
			if i >= window {
				if _, err := ov.Wait(context.Background()); err != nil {
					b.Error(err)
					return
				}
			}
			if err := sock.Send(&actor.Send{Buffers: frame, Overlapped: ov}); err != actor.ErrIOPending {
				b.Error(err)
				return
			}
		}
		for j := max(i-window, 0); j < i; j++ {
			_, _ = ovs[j%window].Wait(context.Background())
		}
	})
}

// BenchmarkFanInNetConn: the same 64 goroutines call Write on one
// net.Conn, which serializes them: one write(2) per frame.
func BenchmarkFanInNetConn(b *testing.B) {
	c, err := net.Dial("tcp", drain(b))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.SetBytes(64)
	b.ReportAllocs()
	b.SetParallelism(fanInSenders / 2)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		frame := make([]byte, 64)
		for pb.Next() {
			if _, err := c.Write(frame); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
