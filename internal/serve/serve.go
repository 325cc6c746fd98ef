// Package serve runs the example servers the way each of them promises: a
// context that SIGINT or SIGTERM ends (the server then stops accepting,
// drains and returns), one "listening on HOST:PORT" line on stdout, and an
// exit status that says how the stop went. Tests start the same servers
// with a context they end themselves.
package serve

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/transport"
)

// Server is a running example server.
type Server interface {
	Addr() string // the bound address
	Wait() error  // blocks until the server has stopped; how the stop went
}

// Main starts a server with start, prints its address, and exits when it
// has stopped: 0 after a clean stop, 1 after a failure (reported on stderr
// with name).
func Main[S Server](name string, start func(ctx context.Context) (S, error)) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	srv, err := start(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
	fmt.Printf("listening on %s\n", srv.Addr())
	if err := srv.Wait(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: stop: %v\n", name, err)
		os.Exit(1)
	}
}

// ForTest starts a server with start for the test t, and at the test's end
// stops it as SIGINT would and checks that the stop was clean.
func ForTest[S Server](t testing.TB, start func(ctx context.Context) (S, error)) S {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := start(ctx)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := srv.Wait(); err != nil {
			t.Error(err)
		}
	})
	return srv
}

// Listening is a server of one listener, on an actor system and an engine
// of its own that stop when the context given to Listen ends.
type Listening struct {
	sys    *actor.System
	eng    *transport.Engine
	ln     *transport.Listener
	onStop []func() // run by Wait, after the engine and the system stopped
}

// Listen starts an actor system and an engine configured by cfg (which
// stops, draining its sockets, when ctx ends) and listens for TCP on addr
// with the Props that props makes for that system.
func Listen(ctx context.Context, cfg transport.Config, addr string, props func(*actor.System) *protoactor.Props, opts ...transport.Option) (*Listening, error) {
	sys := actor.NewSystem()
	cfg.Context = ctx
	eng, err := transport.NewEngine(sys, cfg)
	if err != nil {
		sys.Stop()
		return nil, err
	}
	ln, err := eng.Listen("tcp", addr, props(sys), opts...)
	if err != nil {
		_ = eng.Stop(context.Background())
		sys.Stop()
		return nil, err
	}
	return &Listening{sys: sys, eng: eng, ln: ln}, nil
}

// OnStop adds fn to what Wait runs once the server has stopped.
func (l *Listening) OnStop(fn func()) { l.onStop = append(l.onStop, fn) }

// Addr is the bound address.
func (l *Listening) Addr() string { return l.ln.Addr().String() }

// Wait blocks until the server has stopped and returns how the stop went.
func (l *Listening) Wait() error {
	<-l.eng.Done()
	l.sys.Stop()
	for _, fn := range l.onStop {
		fn()
	}
	return l.eng.Err()
}
