package actor

import (
	"testing"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/wsabuf"
)

// nullConn is a Conn whose writes take everything at once, for measuring
// the framework's own cost per message with no system call. Single goroutine
// only: the benchmark is its event loop.
type nullConn struct{ info ConnInfo }

func (c *nullConn) Info() ConnInfo                             { return c.info }
func (c *nullConn) Post(fn func()) error                       { fn(); return nil }
func (c *nullConn) Writev(iov [][]byte) (int, error)           { return wsabuf.Buffers(iov).Len(), nil }
func (c *nullConn) SendMsg(iov [][]byte, _ Flags) (int, error) { return wsabuf.Buffers(iov).Len(), nil }
func (c *nullConn) AwaitWritable() error                       { return nil }
func (c *nullConn) PauseRead() error                           { return nil }
func (c *nullConn) ResumeRead() error                          { return nil }
func (c *nullConn) Unacked() (int, error)                      { return 0, nil }
func (c *nullConn) ShutdownWrite() error                       { return nil }
func (c *nullConn) Close(bool) error                           { return nil }

// benchEcho delivers b.N received buffers round-robin to n echo sockets and
// lets each handler send its buffer back with SendFrom: the framework's cost
// per echoed message, without the kernel. Many sockets show the cost of a
// cold cache, as a busy server has.
func benchEcho(b *testing.B, n int) {
	sys := NewSystem()
	defer sys.Stop()
	props := protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		if m, ok := ctx.Message().(*Received); ok {
			_, _ = m.Socket.SendFrom(ctx, &Send{Buffers: m.Buffers(), Hold: m.Data})
		}
	})
	eps := make([]*Endpoint, n)
	for i := range eps {
		_, ep, err := NewSocket(sys, &nullConn{info: ConnInfo{Network: "tcp", Connected: true}}, props, Options{})
		if err != nil {
			b.Fatal(err)
		}
		ep.Start()
		eps[i] = ep
	}
	pool := wsabuf.Default()
	payload := make([]byte, 512)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf, _ := pool.Get(len(payload))
		copy(buf.Bytes(), payload)
		eps[i%n].Received(buf, nil)
	}
}

func BenchmarkEchoPath1Socket(b *testing.B)     { benchEcho(b, 1) }
func BenchmarkEchoPath1000Sockets(b *testing.B) { benchEcho(b, 1000) }

func BenchmarkEchoPath100kSockets(b *testing.B) { benchEcho(b, 100000) }
