//go:build !race

package transport

import (
	"testing"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/wsabuf"
)

// Issue target: a steady-state send allocates at most 2 objects, counted over
// the whole process (the event loop's work included). The send's own Send
// value is one of them.
func TestSendAllocations(t *testing.T) {
	sys, e := startEngine(t, Config{Loops: 1, Socket: actor.Options{MaxPendingBytes: 1 << 30, MaxPendingSends: 1 << 24}})
	_ = sys
	socks := make(chan *actor.Socket, 1)
	l, err := e.Listen("tcp", "127.0.0.1:0", socketsProps(socks))
	if err != nil {
		t.Fatal(err)
	}
	drain(dialPeer(t, l))
	s := acceptSocket(t, socks)
	payload := make([]byte, 128)
	for i := 0; i < 10000; i++ { // warm the queues up to their steady size
		_ = s.Send(&actor.Send{Buffers: wsabuf.Buffers{payload}})
	}
	waitIdle(s)
	allocs := testing.AllocsPerRun(20000, func() {
		if err := s.Send(&actor.Send{Buffers: wsabuf.Buffers{payload}}); err != actor.ErrIOPending {
			t.Fatal(err)
		}
	})
	waitIdle(s)
	if allocs > 2 {
		t.Fatalf("%.2f allocations per send, want at most 2", allocs)
	}
	t.Logf("%.2f allocations per send", allocs)
}
