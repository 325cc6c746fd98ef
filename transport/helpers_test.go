package transport

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"
	"golang.org/x/sys/unix"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/wsabuf"
)

// testDeadline bounds every wait in these tests.
const testDeadline = 20 * time.Second

// startEngine makes a System (with opts) and an Engine that the test stops
// at cleanup.
func startEngine(t testing.TB, cfg Config, opts ...actor.SystemOption) (*actor.System, *Engine) {
	t.Helper()
	sys := actor.NewSystem(opts...)
	if cfg.Loops == 0 {
		cfg.Loops = 2
	}
	e, err := NewEngine(sys, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
		defer cancel()
		if err := e.Stop(ctx); err != nil {
			t.Errorf("engine stop: %v", err)
		}
		sys.Stop()
	})
	return sys, e
}

// echoProps is a handler that sends every received buffer straight back.
func echoProps() *protoactor.Props {
	return protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		if m, ok := ctx.Message().(*actor.Received); ok {
			_ = m.Socket.Send(&actor.Send{Buffers: wsabuf.Buffers{m.Data.Bytes()}, Hold: m.Data})
		}
	})
}

// socketsProps hands each socket to ch when it connects, releases received
// buffers, and gives every other message to more, if any.
func socketsProps(ch chan<- *actor.Socket, more ...func(protoactor.Context)) *protoactor.Props {
	return protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		switch m := ctx.Message().(type) {
		case *actor.Connected:
			ch <- m.Socket
		case *actor.Received:
			m.Data.Release()
		default:
			for _, f := range more {
				f(ctx)
			}
		}
	})
}

// dialPeer connects a plain net.Conn to l.
func dialPeer(t testing.TB, l *Listener) net.Conn {
	t.Helper()
	c, err := net.DialTimeout(l.Addr().Network(), l.Addr().String(), testDeadline)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(testDeadline))
	return c
}

// acceptSocket waits for the next socket handed over by socketsProps.
func acceptSocket(t testing.TB, ch <-chan *actor.Socket) *actor.Socket {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(testDeadline):
		t.Fatal("no socket connected")
		return nil
	}
}

// readN reads exactly n bytes from c.
func readN(t testing.TB, c net.Conn, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("read %d bytes: %v", n, err)
	}
	return b
}

// connectedPair starts an engine with cfg, listens on network/addr and
// returns the accepted socket with its plain net.Conn peer.
func connectedPair(t *testing.T, network, addr string, cfg Config, opts ...Option) (*actor.System, *Engine, *actor.Socket, net.Conn) {
	t.Helper()
	sys, e := startEngine(t, cfg)
	socks := make(chan *actor.Socket, 1)
	l, err := e.Listen(network, addr, socketsProps(socks), opts...)
	if err != nil {
		t.Fatal(err)
	}
	peer := dialPeer(t, l)
	return sys, e, acceptSocket(t, socks), peer
}

// closingPair is a TCP connection accepted on e and its peer, with the
// Closed.Err its handler gets, when it gets it.
func closingPair(t *testing.T, e *Engine) (*actor.Socket, net.Conn, <-chan error) {
	t.Helper()
	closed := make(chan error, 1)
	socks := make(chan *actor.Socket, 1)
	l, err := e.Listen("tcp", "127.0.0.1:0", socketsProps(socks, func(ctx protoactor.Context) {
		if m, ok := ctx.Message().(*actor.Closed); ok {
			closed <- m.Err
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	peer := dialPeer(t, l)
	return acceptSocket(t, socks), peer, closed
}

// recvOOB waits for the urgent byte on a TCP peer and reads it.
func recvOOB(peer net.Conn) (oob [1]byte, n int, err error) {
	raw, _ := peer.(*net.TCPConn).SyscallConn()
	_ = raw.Read(func(fd uintptr) bool {
		n, _, err = unix.Recvfrom(int(fd), oob[:], unix.MSG_OOB)
		return err != unix.EAGAIN && err != unix.EINVAL
	})
	return oob, n, err
}
