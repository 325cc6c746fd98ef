// Command echo is an echo server built on overlap's socket actors: every
// connection is an actor, and every received buffer goes straight back with
// an overlapped send that releases it on completion.
//
//	go run ./examples/echo [-addr 127.0.0.1:7007] [-loops N]
//
// It prints one line, "listening on HOST:PORT", when it is ready, and stops
// on SIGINT or SIGTERM: it stops accepting, lets pending sends drain, and
// exits 0.
package main

import (
	"context"
	"flag"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/internal/serve"
	"github.com/overlapio/overlap/transport"
)

// Handler is one connection's actor: it echoes every received buffer back.
// The buffer is the send's Hold, released once the kernel has the bytes;
// m.Buffers() is the gather list, kept in the message, so an echoed message
// allocates nothing. SendFrom writes at once when nothing is queued ahead.
//
// The server lends the handler the event loop's read buffer
// (Options.LendReceived): an echo written at once costs no copy at all, and
// one that must wait (the peer is slow to read) gets a copy of its own.
//
// A peer that writes faster than it reads makes echoes queue. The socket
// says so with Unwritable at its high watermark (2 MiB by default) and
// reading pauses until Writable, far below the 4 MiB of pending bytes at
// which a send would be refused. Should one be refused anyway, or the
// connection fail, the echo would have a hole: the connection is reset.
func Handler(ctx protoactor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Received:
		if _, err := m.Socket.SendFrom(ctx, &actor.Send{Buffers: m.Buffers(), Hold: m.Data}); err != nil && err != actor.ErrIOPending {
			_ = m.Socket.Abort()
		}
	case *actor.Unwritable:
		_ = m.Socket.PauseRead()
	case *actor.Writable:
		_ = m.Socket.ResumeRead()
	}
}

// Options are the echo sockets' options: reads are lent, not copied.
var Options = actor.Options{LendReceived: true}

// Props spawns a Handler per connection.
func Props() *protoactor.Props { return protoactor.PropsFromFunc(Handler) }

// Server is a running echo server.
type Server struct {
	sys *actor.System
	eng *transport.Engine
	ln  *transport.Listener
}

// Start listens on addr with loops event loops (0: one per CPU). The server
// stops by itself, draining its sockets, when ctx ends.
func Start(ctx context.Context, addr string, loops int) (*Server, error) {
	sys := actor.NewSystem()
	eng, err := transport.NewEngine(sys, transport.Config{Loops: loops, Context: ctx})
	if err != nil {
		sys.Stop()
		return nil, err
	}
	ln, err := eng.Listen("tcp", addr, Props(), transport.WithSocketOptions(Options))
	if err != nil {
		_ = eng.Stop(context.Background())
		sys.Stop()
		return nil, err
	}
	return &Server{sys: sys, eng: eng, ln: ln}, nil
}

// Addr is the bound address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Wait blocks until the server has stopped and returns how the stop went.
func (s *Server) Wait() error {
	<-s.eng.Done()
	s.sys.Stop()
	return s.eng.Err()
}

func main() {
	addr := flag.String("addr", "127.0.0.1:7007", "address to listen on (port 0 picks one)")
	loops := flag.Int("loops", 0, "event loops (0: one per CPU)")
	flag.Parse()

	// Ctrl-C or SIGTERM ends ctx; the engine then stops accepting, drains
	// every socket's pending sends and stops.
	serve.Main("echo", func(ctx context.Context) (*Server, error) { return Start(ctx, *addr, *loops) })
}
