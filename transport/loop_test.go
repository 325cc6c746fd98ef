package transport

import (
	"testing"

	"github.com/overlapio/overlap/actor"
)

// The transport reaches into gnet v2.9.7's event loop for its poller (to post
// tasks without allocating, and to pause reading). This fails loudly if a
// gnet upgrade moves it.
func TestPollerLayout(t *testing.T) {
	_, e := startEngine(t, Config{Loops: 1})
	socks := make(chan *actor.Socket, 1)
	l, err := e.Listen("tcp", "127.0.0.1:0", socketsProps(socks))
	if err != nil {
		t.Fatal(err)
	}
	_ = dialPeer(t, l)
	acceptSocket(t, socks)
	var found bool
	for _, br := range e.bridges() {
		br.mu.Lock()
		for _, ls := range br.loops {
			found = true
			if ls.poller == nil || ls.epfd < 0 {
				t.Fatalf("gnet's poller not found (poller %v, epfd %d)", ls.poller, ls.epfd)
			}
		}
		br.mu.Unlock()
	}
	if !found {
		t.Fatal("no event loop recorded")
	}
}
