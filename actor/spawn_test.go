package actor

import (
	"testing"
	"unsafe"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/wsabuf"
)

// hostedConn is a transport's per-connection struct for NewSocketWith: it
// counts the bytes written through it.
type hostedConn struct {
	nullConn
	written int
}

func (c *hostedConn) Writev(iov [][]byte) (int, error) {
	n := wsabuf.Buffers(iov).Len()
	c.written += n
	return n, nil
}

// NewSocketWith: init runs before the socket reads the connection's Info,
// the socket writes through the C it returns, and the C and the Socket are
// one allocation (the C first), which is what the function is for.
func TestNewSocketWithSharesOneObject(t *testing.T) {
	sys := NewSystem()
	defer sys.Stop()
	sp := NewSpawner(protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		if m, ok := ctx.Message().(*Received); ok {
			_, _ = m.Socket.SendFrom(ctx, &Send{Buffers: m.Buffers(), Hold: m.Data})
		}
	}))
	conn, sock, ep, err := NewSocketWith(sp, sys, Options{}, func(c *hostedConn) {
		c.info = ConnInfo{Network: "tcp", Connected: true}
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := sock.Info().Network; got != "tcp" {
		t.Fatalf("socket's network %q: init ran after the socket read Info", got)
	}
	start, end := uintptr(unsafe.Pointer(conn)), uintptr(unsafe.Pointer(sock))
	if end <= start || end-start >= unsafe.Sizeof(hostedConn{})+64 {
		t.Fatalf("socket at %#x, conn at %#x: not one object with the conn first", end, start)
	}
	ep.Start()
	buf, _ := wsabuf.Default().Get(100)
	ep.Received(buf, nil)
	if conn.written != 100 {
		t.Fatalf("the conn saw %d bytes written, want the 100 echoed", conn.written)
	}

	_, _, _, err = NewSocketWith(NewSpawner(nil), sys, Options{}, func(*hostedConn) {})
	if err != ErrInvalid {
		t.Fatalf("no Props: %v, want ErrInvalid", err)
	}
}
