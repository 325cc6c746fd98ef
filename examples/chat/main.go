// Command chat is a line-based chat server for nc or telnet, built on
// overlap's socket actors: every connection is an actor, and every line said
// in a room is encoded once into a reference-counted buffer that one
// overlapped send per member holds until its completion.
//
//	go run ./examples/chat [-addr 127.0.0.1:7070]
//
// A client sends lines: "/nick NAME", "/join ROOM" (everyone starts in
// "lobby"), "/quit", or text, which every other member of its room receives
// as "NAME: text". The server confirms each room a client enters with
// "* joined ROOM". A client that stops reading is disconnected once the
// bytes queued for it pass a limit (-max-queued), without slowing anyone
// else: sends never block, and a refused one drops that client alone.
//
// It prints one line, "listening on HOST:PORT", when it is ready, and stops
// on SIGINT or SIGTERM: it stops accepting, lets pending sends drain, and
// exits 0.
package main

import (
	"context"
	"flag"
	"sync/atomic"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/internal/serve"
	"github.com/overlapio/overlap/transport"
)

// Server is a running chat server.
type Server struct {
	*serve.Listening
	dropped *atomic.Int64
}

// Start listens on addr. maxQueued is about the bytes that may wait for one
// client, in the server and in its kernel send buffer, before it is
// disconnected. The server stops, draining, when ctx ends.
func Start(ctx context.Context, addr string, maxQueued int) (*Server, error) {
	dropped := new(atomic.Int64)
	clients := func(sys *actor.System) *protoactor.Props {
		hub := sys.Actors.Root.Spawn(protoactor.PropsFromProducer(func() protoactor.Actor { return newHub(dropped) }))
		return protoactor.PropsFromProducer(func() protoactor.Actor { return newClient(hub) })
	}
	// Half the allowance queues in the socket, half in the kernel (the
	// kernel's own send buffer would otherwise hide megabytes).
	opts := actor.Options{MaxPendingBytes: maxQueued / 2, SendBuffer: maxQueued / 2}
	l, err := serve.Listen(ctx, transport.Config{}, addr, clients, transport.WithSocketOptions(opts))
	if err != nil {
		return nil, err
	}
	return &Server{Listening: l, dropped: dropped}, nil
}

// Dropped counts the clients disconnected because the bytes queued for
// them passed the limit.
func (s *Server) Dropped() int64 { return s.dropped.Load() }

func main() {
	addr := flag.String("addr", "127.0.0.1:7070", "address to listen on (port 0 picks one)")
	maxQueued := flag.Int("max-queued", 256<<10, "bytes that may wait for a client before it is disconnected")
	flag.Parse()

	serve.Main("chat", func(ctx context.Context) (*Server, error) { return Start(ctx, *addr, *maxQueued) })
}
