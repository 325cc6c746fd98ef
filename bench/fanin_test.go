package main

import (
	"context"
	"net"
	"testing"

	protoactor "github.com/asynkron/protoactor-go/actor"

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

// BenchmarkFanInActors: 64 actors on the System's Dispatcher send 64-byte
// frames to one socket, each by posting Send messages to the socket's PID
// (its mailbox takes them as they are posted; a new Send each, the plain
// way, so the allocations per send are those of a sender that does not
// reuse them). Like the goroutines above, each keeps at most 32 frames
// in flight, the actor's way: the last frame of every burst of 16 asks for
// a Completion, and each Completion lets the actor send its next burst.
func BenchmarkFanInActors(b *testing.B) {
	sock, sys := dialOverlapSys(b, drain(b))
	b.SetBytes(64)
	b.ReportAllocs()
	done := make(chan error, fanInSenders)
	props := protoactor.PropsFromProducer(func() protoactor.Actor {
		return &quotaSender{sock: sock.PID(), frame: wsabuf.Buffers{make([]byte, 64)}, done: done}
	}, protoactor.WithDispatcher(sys.Dispatcher()))
	pids := make([]*protoactor.PID, fanInSenders)
	for i := range pids {
		pids[i] = sys.Actors.Root.Spawn(props)
	}
	b.Cleanup(func() {
		for _, pid := range pids {
			_ = sys.Actors.Root.StopFuture(pid).Wait()
		}
	})
	b.ResetTimer()
	defer cpuPerOp(b)()
	for i, pid := range pids {
		quota := b.N / fanInSenders
		if i < b.N%fanInSenders {
			quota++
		}
		sys.Actors.Root.Send(pid, fanInQuota(quota))
	}
	for range pids {
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
}

// fanInQuota tells a quotaSender how many frames to send.
type fanInQuota int

// quotaSender, the microbenchmark's actor sender, sends its quota of frames to sock in bursts of 16, two bursts
// in flight, and reports on done when every frame has completed.
type quotaSender struct {
	sock     *protoactor.PID
	frame    wsabuf.Buffers
	done     chan<- error
	left     int  // frames not sent yet
	inflight int  // bursts not completed yet
	reported bool // done has its answer
}

// report answers on done, once.
func (a *quotaSender) report(err error) {
	if !a.reported {
		a.reported = true
		a.done <- err
	}
}

func (a *quotaSender) Receive(ctx protoactor.Context) {
	switch m := ctx.Message().(type) {
	case fanInQuota:
		a.left = int(m)
		a.burst(ctx)
		a.burst(ctx)
		if a.inflight == 0 {
			a.report(nil)
		}
	case *actor.Completion:
		if m.Err != nil {
			a.report(m.Err)
			return
		}
		a.inflight--
		a.burst(ctx)
		if a.inflight == 0 {
			a.report(nil)
		}
	}
}

// burst sends up to 16 frames; the last one's completion comes back.
func (a *quotaSender) burst(ctx protoactor.Context) {
	n := min(16, a.left)
	if n == 0 {
		return
	}
	for i := 0; i < n; i++ {
		m := &actor.Send{Buffers: a.frame}
		if i == n-1 {
			m.ReplyTo = ctx.Self()
		}
		ctx.Send(a.sock, m)
	}
	a.left -= n
	a.inflight++
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
