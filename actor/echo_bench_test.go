package actor

import (
	"os"
	"syscall"
	"testing"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/wsabuf"
)

// nullConn is a Conn whose writes take everything at once, for measuring
// the framework's own cost per message with no system call. Single goroutine
// only: the benchmark is its event loop.
type nullConn struct{ info ConnInfo }

func (c *nullConn) Info() ConnInfo                                   { return c.info }
func (c *nullConn) Post(fn func()) error                             { fn(); return nil }
func (c *nullConn) Writev(iov [][]byte) (int, error)                 { return wsabuf.Buffers(iov).Len(), nil }
func (c *nullConn) SendMsg(iov [][]byte, _ Flags) (int, error)       { return wsabuf.Buffers(iov).Len(), nil }
func (c *nullConn) AwaitWritable() error                             { return nil }
func (c *nullConn) PauseRead() error                                 { return nil }
func (c *nullConn) ResumeRead() error                                { return nil }
func (c *nullConn) Unacked() (int, error)                            { return 0, nil }
func (c *nullConn) SendFile(_ *os.File, _ int64, n int) (int, error) { return n, nil }
func (c *nullConn) ShutdownWrite() error                             { return nil }
func (c *nullConn) Close(bool) error                                 { return nil }

// benchEcho delivers b.N received buffers round-robin to n echo sockets and
// lets each handler send its buffer back with SendFrom: the framework's cost
// per echoed message, without the kernel. Many sockets show the cost of a
// cold cache, as a busy server has.
func benchEcho(b *testing.B, n int) { benchEchoWith(b, n, false, false) }

// getppid is the cheapest real system call: what it costs is the kernel
// entry and exit, including the TLB flush that page-table isolation without
// PCID makes every system call pay.
func getppid() { syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0) }

// syscallConn is nullConn whose writes make one real system call.
type syscallConn struct{ nullConn }

func (c *syscallConn) Writev(iov [][]byte) (int, error) {
	getppid()
	return wsabuf.Buffers(iov).Len(), nil
}

// benchEchoWith is benchEcho; with syscalls, each message is bracketed by
// two real system calls, standing in for the read and the write, so the
// framework pays what it pays on a server: a cold TLB after each of them.
// Compare with BenchmarkEchoPathSyscallsFloor, which makes the same calls
// and copies the bytes, as a raw event loop does. With lend, the sockets
// have Options.LendReceived and each read is lent, as the transport does.
func benchEchoWith(b *testing.B, n int, syscalls, lend bool) {
	sys := NewSystem()
	defer sys.Stop()
	props := protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		if m, ok := ctx.Message().(*Received); ok {
			_, _ = m.Socket.SendFrom(ctx, &Send{Buffers: m.Buffers(), Hold: m.Data})
		}
	})
	eps := make([]*Endpoint, n)
	for i := range eps {
		var conn Conn = &nullConn{info: ConnInfo{Network: "tcp", Connected: true}}
		if syscalls {
			conn = &syscallConn{nullConn{info: ConnInfo{Network: "tcp", Connected: true}}}
		}
		_, ep, err := NewSocket(sys, conn, props, Options{LendReceived: lend})
		if err != nil {
			b.Fatal(err)
		}
		ep.Start()
		eps[i] = ep
	}
	pool := wsabuf.Default()
	payload := make([]byte, 512)
	lent := new(wsabuf.Buf)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if syscalls {
			getppid()
		}
		if lend {
			pool.Lend(lent, payload)
			eps[i%n].Received(lent, nil)
			if !lent.Reclaim() {
				lent = new(wsabuf.Buf)
			}
			continue
		}
		buf, _ := pool.Get(len(payload))
		copy(buf.Bytes(), payload)
		eps[i%n].Received(buf, nil)
	}
}

func BenchmarkEchoPath1Socket(b *testing.B)     { benchEcho(b, 1) }
func BenchmarkEchoPath1000Sockets(b *testing.B) { benchEcho(b, 1000) }

func BenchmarkEchoPath100kSockets(b *testing.B) { benchEcho(b, 100000) }

// BenchmarkEchoPathSyscalls is BenchmarkEchoPath1000Sockets with a real
// system call in place of each read and write. Its excess over
// BenchmarkEchoPathSyscallsFloor is the framework's cost per message as a
// server sees it, page walks included (see socket_inline.go).
func BenchmarkEchoPathSyscalls(b *testing.B) { benchEchoWith(b, 1000, true, false) }

// BenchmarkEchoPathSyscallsLent is BenchmarkEchoPathSyscalls with
// Options.LendReceived: no pool round trip and no copy per message.
func BenchmarkEchoPathSyscallsLent(b *testing.B) { benchEchoWith(b, 1000, true, true) }

func BenchmarkEchoPathSyscallsLent1(b *testing.B) { benchEchoWith(b, 1, true, true) }

// BenchmarkEchoPathLent1 is the lent path on one socket, cache-hot and
// without system calls: the instructions and atomics of an echo alone.
func BenchmarkEchoPathLent1(b *testing.B) { benchEchoWith(b, 1, false, true) }

// BenchmarkEchoPathSyscallsFloor makes the two system calls of
// BenchmarkEchoPathSyscalls and copies each message into its connection's
// buffer: a raw event loop's share of the same work.
func BenchmarkEchoPathSyscallsFloor(b *testing.B) {
	type conn struct {
		buf [512]byte
		out []byte
	}
	conns := make([]conn, 1000)
	payload := make([]byte, 512)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		getppid()
		c := &conns[i%len(conns)]
		c.out = c.buf[:copy(c.buf[:], payload)]
		getppid()
	}
}
