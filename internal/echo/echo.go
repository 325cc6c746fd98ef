// Package echo is the echo handler of examples/echo, shared with bench/ so
// that the benchmarks measure exactly the server people run.
package echo

import (
	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/actor"
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

// SpareProcessor is what the echo server sets its engine's
// transport.Config.SpareProcessor to: an echo is driven by what it reads,
// which a spare P makes cheaper (the field gives the figures), and it has
// no goroutines of its own that the P would let run beside the loops.
const SpareProcessor = true

// Options are the echo sockets' options: reads are lent, not copied.
var Options = actor.Options{LendReceived: true}

// Props spawns a Handler per connection.
func Props() *protoactor.Props { return protoactor.PropsFromFunc(Handler) }
