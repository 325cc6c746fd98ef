package main

import (
	"context"
	"io"
	"net"
	"testing"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/transport"
	"github.com/overlapio/overlap/wsabuf"
)

// drain listens on 127.0.0.1 and discards everything one connection sends.
func drain(b *testing.B) string {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.Copy(io.Discard, c)
	}()
	b.Cleanup(func() {
		l.Close()
		<-done
	})
	return l.Addr().String()
}

// dialOverlap connects an overlap socket to addr, on a system and an engine
// of its own that stop when the benchmark ends.
func dialOverlap(b *testing.B, addr string) *actor.Socket {
	b.Helper()
	sock, _ := dialOverlapSys(b, addr)
	return sock
}

// dialOverlapSys is dialOverlap that also returns the socket's system.
func dialOverlapSys(b *testing.B, addr string) (*actor.Socket, *actor.System) {
	b.Helper()
	sys := actor.NewSystem()
	b.Cleanup(sys.Stop)
	eng, err := transport.NewEngine(sys, transport.Config{Loops: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = eng.Stop(context.Background()) })
	sock, err := eng.Dial(context.Background(), "tcp", addr, protoactor.PropsFromFunc(func(protoactor.Context) {}))
	if err != nil {
		b.Fatal(err)
	}
	return sock, sys
}

// segments is a gather list of n segments of size bytes each.
func segments(n, size int) [][]byte {
	segs := make([][]byte, n)
	for i := range segs {
		segs[i] = make([]byte, size)
	}
	return segs
}

// The gather scenarios: one message of segs segments, sent whole each time.
var gathers = []struct {
	name       string
	segs, size int
}{{"16x64B", 16, 64}, {"64x1KiB", 64, 1 << 10}}

// BenchmarkGatherOverlap sends each message as one overlapped gather send,
// keeping up to window of them in flight (each waits on the Overlapped of
// the send window places before it): the socket coalesces what queues
// while a write is in flight.
func BenchmarkGatherOverlap(b *testing.B) {
	for _, g := range gathers {
		b.Run(g.name, func(b *testing.B) {
			sock := dialOverlap(b, drain(b))
			const window = 32
			var ovs [window]actor.Overlapped
			bufs := wsabuf.Buffers(segments(g.segs, g.size))
			b.SetBytes(int64(g.segs * g.size))
			b.ReportAllocs()
			b.ResetTimer()
			defer cpuPerOp(b)()
			for i := 0; i < b.N+window; i++ {
				ov := &ovs[i%window]
				if i >= window {
					if _, err := ov.Wait(context.Background()); err != nil {
						b.Fatal(err)
					}
				}
				if i >= b.N {
					continue // the last ones are waited for, not sent
				}
				if err := sock.Send(&actor.Send{Buffers: bufs, Overlapped: ov}); err != actor.ErrIOPending {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGatherNetConnPerSegment writes each segment with its own Write:
// what a net.Conn user without writev does.
func BenchmarkGatherNetConnPerSegment(b *testing.B) {
	benchNetConn(b, func(c net.Conn, segs [][]byte) error {
		for _, s := range segs {
			if _, err := c.Write(s); err != nil {
				return err
			}
		}
		return nil
	})
}

// BenchmarkGatherNetBuffers writes each message with net.Buffers.WriteTo,
// Go's own writev.
func BenchmarkGatherNetBuffers(b *testing.B) {
	var scratch [][]byte
	benchNetConn(b, func(c net.Conn, segs [][]byte) error {
		// WriteTo consumes its receiver's segments in place: give it a copy
		// of the headers each time.
		scratch = append(scratch[:0], segs...)
		nb := net.Buffers(scratch)
		_, err := nb.WriteTo(c)
		return err
	})
}

func benchNetConn(b *testing.B, send func(net.Conn, [][]byte) error) {
	for _, g := range gathers {
		b.Run(g.name, func(b *testing.B) {
			c, err := net.Dial("tcp", drain(b))
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			segs := segments(g.segs, g.size)
			b.SetBytes(int64(g.segs * g.size))
			b.ReportAllocs()
			b.ResetTimer()
			defer cpuPerOp(b)()
			for i := 0; i < b.N; i++ {
				if err := send(c, segs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
