package transport

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/actor"
)

// syncBuffer is a bytes.Buffer safe for a logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// Embedding (DESIGN.md): overlap runs on the caller's actor system and
// logger, stops when the caller's context is cancelled (closing its sockets
// and leaving no goroutine, as TestMain's goleak checks), and leaves the
// caller's actor system running.
func TestEmbeddedStopsOnContextCancel(t *testing.T) {
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	as := protoactor.NewActorSystem(protoactor.WithLoggerFactory(func(*protoactor.ActorSystem) *slog.Logger { return logger }))
	defer as.Shutdown()
	sys := actor.NewSystem(actor.WithActorSystem(as), actor.WithLogger(logger))
	defer sys.Stop()

	ctx, cancel := context.WithCancel(context.Background())
	e, err := NewEngine(sys, Config{Loops: 1, Context: ctx})
	if err != nil {
		t.Fatal(err)
	}
	connected, closed := make(chan struct{}), make(chan struct{})
	l, err := e.Listen("tcp", "127.0.0.1:0", protoactor.PropsFromFunc(func(c protoactor.Context) {
		switch c.Message().(type) {
		case *actor.Connected:
			close(connected)
		case *actor.Closed:
			close(closed)
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	peer := dialPeer(t, l)
	// Cancel once the server has the connection: one still being accepted
	// when the engine stops is refused, and then has no handler to close.
	select {
	case <-connected:
	case <-time.After(testDeadline):
		t.Fatal("no connection accepted")
	}
	cancel()
	select {
	case <-e.Done():
	case <-time.After(testDeadline):
		t.Fatal("the engine did not stop when its context was cancelled")
	}
	if err := e.Err(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	select {
	case <-closed:
	case <-time.After(testDeadline):
		t.Fatal("the socket's handler never got Closed")
	}
	if _, err := io.ReadAll(peer); err != nil {
		t.Fatalf("peer: %v (want a clean EOF)", err)
	}
	// The caller's actor system still works.
	got := make(chan string, 1)
	pid := as.Root.Spawn(protoactor.PropsFromFunc(func(c protoactor.Context) {
		if s, ok := c.Message().(string); ok {
			got <- s
		}
	}))
	as.Root.Send(pid, "still running")
	select {
	case s := <-got:
		if s != "still running" {
			t.Fatal(s)
		}
	case <-time.After(testDeadline):
		t.Fatal("the caller's actor system stopped with overlap")
	}
}
