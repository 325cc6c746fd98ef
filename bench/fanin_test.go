package main

import (
	"context"
	"net"
	"testing"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/wsabuf"
)

// fanInSenders is how many goroutines send to the one socket at once.
const fanInSenders = 64

// BenchmarkFanInOverlap: 64 goroutines send 64-byte frames to one socket.
// Frames that queue while a write is in flight leave together in one
// writev. Each goroutine bounds what it has in flight to 32 frames by
// putting an Overlapped on every 16th send and waiting for the one before:
// a socket completes its sends in order, so that covers the frames between.
func BenchmarkFanInOverlap(b *testing.B) {
	sock := dialOverlap(b, drain(b))
	b.SetBytes(64)
	b.ReportAllocs()
	b.SetParallelism(fanInSenders / 2) // × GOMAXPROCS (2 here)
	b.ResetTimer()
	defer cpuPerOp(b)()
	b.RunParallel(func(pb *testing.PB) {
		const every = 16
		var marks [2]actor.Overlapped
		frame := wsabuf.Buffers{make([]byte, 64)}
		i := 0
		for ; pb.Next(); i++ {
			m := &actor.Send{Buffers: frame}
			if i%every == 0 {
				ov := &marks[(i/every)%2]
				if i >= 2*every {
					if _, err := ov.Wait(context.Background()); err != nil {
						b.Error(err)
						return
					}
				}
				m.Overlapped = ov
			}
			if err := sock.Send(m); err != actor.ErrIOPending {
				b.Error(err)
				return
			}
		}
		for k := range marks {
			if marks[k].Pending() {
				_, _ = marks[k].Wait(context.Background())
			}
		}
	})
	// The frames without an Overlapped are done when the socket has
	// nothing pending.
	flush := &actor.Overlapped{}
	if err := sock.Send(&actor.Send{Buffers: wsabuf.Buffers{nil}, Overlapped: flush}); err == actor.ErrIOPending {
		_, _ = flush.Wait(context.Background())
	}
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
	defer cpuPerOp(b)()
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
