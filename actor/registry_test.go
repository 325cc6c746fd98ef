package actor

import (
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
