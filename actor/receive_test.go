package actor

import (
	"testing"

	protoactor "github.com/asynkron/protoactor-go/actor"
)

// Received takes a shorter road into the actor than other messages when the
// Props have no receiver middleware (see Socket.invokeUser). The handler must
// not tell the difference: it sees the message, no sender, and its panics
// go to the supervisor; with middleware, the middleware sees every Received.
func TestReceivedShortRoadIsInvisible(t *testing.T) {
	for _, mw := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "middleware"}[mw]
		t.Run(name, func(t *testing.T) {
			sys := NewSystem()
			rec := newRecorder()
			seen := newRecorder() // what the middleware saw
			props := protoactor.PropsFromFunc(func(ctx protoactor.Context) {
				if m, ok := ctx.Message().(*Received); ok {
					if ctx.Sender() != nil {
						t.Errorf("Received with sender %v", ctx.Sender())
					}
					if string(m.Data.Bytes()) == "boom" {
						m.Data.Release()
						panic("handler failure")
					}
					rec.add(string(m.Data.Bytes()))
					m.Data.Release()
					return
				}
				rec.add(ctx.Message())
			})
			if mw {
				props = props.Configure(protoactor.WithReceiverMiddleware(func(next protoactor.ReceiverFunc) protoactor.ReceiverFunc {
					return func(ctx protoactor.ReceiverContext, env *protoactor.MessageEnvelope) {
						if m, ok := env.Message.(*Received); ok {
							seen.add(string(m.Data.Bytes()))
						}
						next(ctx, env)
					}
				}))
			}
			sock, _, receive := shortRoadSocket(t, sys, props)
			if short := sock.receiver != nil; short == mw {
				t.Fatalf("short road taken: %v, with middleware: %v", short, mw)
			}
			receive("one")
			rec.waitFor(t, "one", func(m any) bool { return m == "one" })
			receive("boom")
			rec.waitFor(t, "Restarting after a panic in Receive", func(m any) bool { _, ok := m.(*protoactor.Restarting); return ok })
			receive("two")
			rec.waitFor(t, "two after the restart", func(m any) bool { return m == "two" })
			if mw {
				seen.waitFor(t, "middleware saw two", func(m any) bool { return m == "two" })
				if got := len(seen.all()); got != 3 {
					t.Errorf("middleware saw %d Received, want 3 (one, boom, two): %v", got, seen.all())
				}
			}
		})
	}
}

// The short road is for Props that nothing wraps: receiver middleware,
// sender middleware or a context decorator each keep the socket's
// messages on protoactor's road, where they see them.
func TestPlainProps(t *testing.T) {
	recv := func(ctx protoactor.Context) {}
	for _, c := range []struct {
		name  string
		props *protoactor.Props
		plain bool
	}{
		{"plain", protoactor.PropsFromFunc(recv), true},
		{"receiver middleware", protoactor.PropsFromFunc(recv, protoactor.WithReceiverMiddleware(func(next protoactor.ReceiverFunc) protoactor.ReceiverFunc { return next })), false},
		{"sender middleware", protoactor.PropsFromFunc(recv, protoactor.WithSenderMiddleware(func(next protoactor.SenderFunc) protoactor.SenderFunc { return next })), false},
		{"context decorator", protoactor.PropsFromFunc(recv, protoactor.WithContextDecorator(func(next protoactor.ContextDecoratorFunc) protoactor.ContextDecoratorFunc { return next })), false},
	} {
		if got := plainProps(c.props); got != c.plain {
			t.Errorf("%s: plainProps = %v, want %v", c.name, got, c.plain)
		}
	}
}
