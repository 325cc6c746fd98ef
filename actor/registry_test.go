package actor

import (
	"errors"
	"testing"
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"
)

// NewSystem's own actor system has registryBuckets registry buckets, and
// the processes protoactor registered before the resize still resolve: an
// actor spawned afterwards is found, and a message to it arrives.
func TestNewSystemResizesRegistry(t *testing.T) {
	sys := NewSystem()
	defer sys.Stop()
	pr := sys.Actors.ProcessRegistry
	if got := len(pr.LocalPIDs.LocalPIDs); got != registryBuckets {
		t.Fatalf("%d registry buckets, want %d", got, registryBuckets)
	}
	if _, ok := pr.GetLocal("eventstream"); !ok {
		t.Fatal("the event stream's process was lost in the resize")
	}
	got := make(chan string, 1)
	pid := sys.Actors.Root.Spawn(protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		if s, ok := ctx.Message().(string); ok {
			got <- s
		}
	}))
	defer sys.Actors.Root.Stop(pid)
	if _, ok := pr.GetLocal(pid.Id); !ok {
		t.Fatalf("spawned %s, not in the registry", pid.Id)
	}
	sys.Actors.Root.Send(protoactor.NewPID(pid.Address, pid.Id), "hello")
	select {
	case s := <-got:
		if s != "hello" {
			t.Fatalf("got %q", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the message to the spawned actor did not arrive")
	}

	// A caller's actor system is left as it is.
	own := protoactor.NewActorSystem()
	defer own.Shutdown()
	n := len(own.ProcessRegistry.LocalPIDs.LocalPIDs)
	NewSystem(WithActorSystem(own)).Stop()
	if got := len(own.ProcessRegistry.LocalPIDs.LocalPIDs); got != n {
		t.Fatalf("the caller's registry went from %d buckets to %d", n, got)
	}
}

// The socket is its own Process in the registry: Lookup finds it by PID
// while it is open; and a PID that resolved to it before its actor stopped
// (a PID caches its Process) sends to the dead-letter process afterwards,
// as a fresh lookup would: a Watch then gets Terminated at once.
func TestSocketIsItsOwnProcess(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)
	pid := h.sock.PID()
	if p, _ := h.sys.Actors.ProcessRegistry.GetLocal(pid.Id); p != protoactor.Process((*socketProcess)(h.sock)) {
		t.Fatalf("the registry holds %T for the socket's PID", p)
	}
	if got, err := h.sys.Lookup(protoactor.NewPID(pid.Address, pid.Id)); got != h.sock || err != nil {
		t.Fatalf("Lookup of an open socket: (%p, %v), want (%p, nil)", got, err, h.sock)
	}
	if n := h.sys.Sockets(); n != 1 {
		t.Fatalf("Sockets() = %d, want 1", n)
	}
	h.sys.Actors.Root.Stop(pid) // resolves pid: it caches the socket
	h.h.waitFor(t, "Stopped", func(m any) bool { _, ok := m.(*protoactor.Stopped); return ok })
	if _, err := h.sys.Lookup(pid); !errors.Is(err, ErrNotSock) {
		t.Errorf("Lookup after stop: %v, want ErrNotSock", err)
	}
	if n := h.sys.Sockets(); n != 0 {
		t.Errorf("Sockets() after stop = %d, want 0", n)
	}
	terminated := make(chan *protoactor.PID, 1)
	watcher := h.sys.Actors.Root.Spawn(protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		switch m := ctx.Message().(type) {
		case *protoactor.Started:
			ctx.Watch(pid)
		case *protoactor.Terminated:
			terminated <- m.Who
		}
	}))
	defer h.sys.Actors.Root.Stop(watcher)
	select {
	case who := <-terminated:
		if who.Id != pid.Id {
			t.Errorf("Terminated for %s, want %s", who.Id, pid.Id)
		}
	case <-time.After(testDeadline):
		t.Fatal("watching the stopped socket: no Terminated")
	}
}
