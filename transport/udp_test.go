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

// Clauses 1 and 12: an unconnected UDP socket (a listener) receives
// datagrams with their sender, and refuses sends with ErrNotConn since it
// has no default peer.
func TestUDPListenUnconnected(t *testing.T) {
	for _, tc := range []struct{ network, addr string }{{"udp", "127.0.0.1:0"}, {"udp6", "[::1]:0"}} {
		t.Run(tc.network, func(t *testing.T) {
			_, e := startEngine(t, Config{})
			got := make(chan *actor.Received, 16)
			l, err := e.Listen(tc.network, tc.addr, protoactor.PropsFromFunc(func(ctx protoactor.Context) {
				if m, ok := ctx.Message().(*actor.Received); ok {
					// Copy out: the message is reused once Receive returns.
					got <- &actor.Received{Socket: m.Socket, Data: m.Data, From: m.From}
				}
			}))
			if err != nil {
				t.Fatal(err)
			}
			s := l.Socket()
			if s == nil || s.RemoteAddr() != nil {
				t.Fatal("a UDP listener must have one unconnected socket")
			}
			c, err := net.Dial(tc.network, l.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for i, msg := range []string{"first", "second datagram"} {
				if _, err := c.Write([]byte(msg)); err != nil {
					t.Fatal(err)
				}
				select {
				case m := <-got:
					if string(m.Data.Bytes()) != msg {
						t.Fatalf("datagram %d: %q, want %q", i, m.Data.Bytes(), msg)
					}
					if m.From == nil || m.From.String() != c.LocalAddr().String() {
						t.Fatalf("datagram %d from %v, want %v", i, m.From, c.LocalAddr())
					}
					m.Data.Release()
				case <-time.After(testDeadline):
					t.Fatal("datagram never arrived")
				}
			}
			ov := &actor.Overlapped{}
			if err := s.Send(&actor.Send{Buffers: wsabuf.Buffers{[]byte("x")}, Overlapped: ov}); !errors.Is(err, actor.ErrNotConn) {
				t.Fatalf("send on an unconnected UDP socket: %v, want ErrNotConn", err)
			}
			if _, err, done := ov.Result(); !done || !errors.Is(err, actor.ErrNotConn) {
				t.Fatalf("its completion: %v (done %v)", err, done)
			}
		})
	}
}
