// Command echo is an echo server built on overlap's socket actors: every
// connection is an actor, and every received buffer goes straight back with
// an overlapped send that releases it on completion (the handler is
// internal/echo's, which the benchmarks run too).
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
	"github.com/overlapio/overlap/internal/echo"
	"github.com/overlapio/overlap/internal/serve"
	"github.com/overlapio/overlap/transport"
)

// Start listens on addr with loops event loops (0: one per CPU). The server
// stops by itself, draining its sockets, when ctx ends.
func Start(ctx context.Context, addr string, loops int) (*serve.Listening, error) {
	return serve.Listen(ctx, transport.Config{Loops: loops, SpareProcessor: echo.SpareProcessor}, addr,
		func(*actor.System) *protoactor.Props { return echo.Props() }, transport.WithSocketOptions(echo.Options))
}

func main() {
	addr := flag.String("addr", "127.0.0.1:7007", "address to listen on (port 0 picks one)")
	loops := flag.Int("loops", 0, "event loops (0: one per CPU)")
	flag.Parse()

	// Ctrl-C or SIGTERM ends ctx; the engine then stops accepting, drains
	// every socket's pending sends and stops.
	serve.Main("echo", func(ctx context.Context) (*serve.Listening, error) { return Start(ctx, *addr, *loops) })
}
