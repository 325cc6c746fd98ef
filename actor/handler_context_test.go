package actor

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/wsabuf"
)

// shortRoadSocket starts a socket for props on a fake connection and
// returns it with a function that delivers s as received bytes, on the
// loop.
func shortRoadSocket(t *testing.T, sys *System, props *protoactor.Props) (*Socket, func(s string)) {
	t.Helper()
	fc := newFakeConn(ConnInfo{Network: "tcp", Connected: true})
	t.Cleanup(func() { fc.stop(t); sys.Stop() })
	var sock *Socket
	var ep *Endpoint
	fc.do(t, func() {
		var err error
		if sock, ep, err = NewSocket(sys, fc, props, Options{}); err != nil {
			t.Fatal(err)
		}
		ep.Start()
	})
	return sock, func(s string) {
		fc.do(t, func() {
			buf, _ := wsabuf.Default().Get(len(s))
			copy(buf.Bytes(), s)
			ep.Received(buf, nil)
		})
	}
}

// On the short road the handler's context is the socket's: it answers for
// the Received and the actor as protoactor's would, and, kept past Receive,
// it answers for whatever message protoactor is delivering.
func TestHandlerContextOnShortRoad(t *testing.T) {
	sys := NewSystem()
	rec := newRecorder()
	var kept protoactor.Context // the loop's only
	props := protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		switch m := ctx.Message().(type) {
		case *Received:
			_, socketsOwn := ctx.(*handlerContext)
			rec.add(socketsOwn)
			rec.add(ctx.Self() == m.Socket.PID())
			rec.add(ctx.Sender() == nil && ctx.MessageHeader() == nil && ctx.Actor() != nil && ctx.ActorSystem() == sys.Actors)
			m.Data.Release()
			kept = ctx
		case string:
			rec.add("kept context sees " + kept.Message().(string))
		}
	})
	sock, receive := shortRoadSocket(t, sys, props)
	receive("one")
	rec.waitFor(t, "the third check", func(any) bool { return len(rec.all()) == 3 })
	if all := rec.all(); all[0] != true || all[1] != true || all[2] != true {
		t.Fatalf("socket's own context, Self is the socket, no sender or header, actor and system: %v", all)
	}
	sys.Actors.Root.Send(sock.PID(), "probe")
	rec.waitFor(t, "the kept context answering for the probe", func(m any) bool { return m == "kept context sees probe" })
}

// A receive timeout must be reset by every Received, which protoactor's
// road does: while one is set, Received goes that way, whichever context
// set it; once cancelled, the short road again.
func TestHandlerContextReceiveTimeout(t *testing.T) {
	sys := NewSystem()
	rec := newRecorder()
	props := protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		switch m := ctx.Message().(type) {
		case *Connected:
			ctx.SetReceiveTimeout(time.Hour) // protoactor's context
		case *Received:
			_, short := ctx.(*handlerContext)
			word := string(m.Data.Bytes())
			m.Data.Release()
			rec.add(word + map[bool]string{true: ": short", false: ": protoactor"}[short])
			switch word {
			case "cancel", "cancel again":
				ctx.CancelReceiveTimeout()
			case "set":
				ctx.SetReceiveTimeout(time.Hour)
			}
		}
	})
	_, receive := shortRoadSocket(t, sys, props)
	for _, step := range []struct{ send, want string }{
		{"cancel", "cancel: protoactor"},             // set by Connected
		{"set", "set: short"},                        // set on the short road...
		{"cancel again", "cancel again: protoactor"}, // ...takes effect at once
		{"plain", "plain: short"},
	} {
		receive(step.send)
		rec.waitFor(t, step.want, func(m any) bool { return m == step.want })
	}
}

// restartingActor is a handler with state: each incarnation has its own
// number, and the word "boom" makes it panic.
type restartingActor struct {
	n   int64
	rec *recorder
}

func (a *restartingActor) Receive(ctx protoactor.Context) {
	if m, ok := ctx.Message().(*Received); ok {
		word := string(m.Data.Bytes())
		m.Data.Release()
		if word == "boom" {
			panic("boom")
		}
		a.rec.add(word + " by incarnation " + string(rune('0'+a.n)))
	}
}

// A restart makes a new actor: the short road must deliver to it, not to
// the one that failed.
func TestHandlerContextRestartMakesNewActor(t *testing.T) {
	sys := NewSystem()
	rec := newRecorder()
	var made atomic.Int64
	props := protoactor.PropsFromProducer(func() protoactor.Actor {
		return &restartingActor{n: made.Add(1), rec: rec}
	})
	_, receive := shortRoadSocket(t, sys, props)
	receive("one")
	rec.waitFor(t, "one by the first", func(m any) bool { return m == "one by incarnation 1" })
	receive("boom")
	receive("two")
	rec.waitFor(t, "two by the second", func(m any) bool { return m == "two by incarnation 2" })
}

// decorated is the context a decorator hands the actor.
type decorated struct{ protoactor.Context }

// A context decorator must see every Received, so it keeps protoactor's
// road.
func TestHandlerContextDecoratorKeepsProtoactorRoad(t *testing.T) {
	sys := NewSystem()
	rec := newRecorder()
	props := protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		if m, ok := ctx.Message().(*Received); ok {
			m.Data.Release()
			_, ok := ctx.(*decorated)
			rec.add(ok)
		}
	}, protoactor.WithContextDecorator(func(next protoactor.ContextDecoratorFunc) protoactor.ContextDecoratorFunc {
		return func(ctx protoactor.Context) protoactor.Context { return next(&decorated{ctx}) }
	}))
	_, receive := shortRoadSocket(t, sys, props)
	receive("one")
	if got := rec.waitFor(t, "a Received", func(any) bool { return true }); got != true {
		t.Fatal("the handler got a Received without its decorated context")
	}
}

// syncBuffer is a bytes.Buffer for a logger written on one goroutine and
// read on another.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Stashing a Received, which the socket reuses, is refused with an error in
// the log; the handler goes on.
func TestHandlerContextStashRefused(t *testing.T) {
	var log syncBuffer
	sys := NewSystem(WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
	rec := newRecorder()
	props := protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		if m, ok := ctx.Message().(*Received); ok {
			ctx.Stash()
			rec.add(string(m.Data.Bytes()))
			m.Data.Release()
		}
	})
	_, receive := shortRoadSocket(t, sys, props)
	receive("one")
	rec.waitFor(t, "one", func(m any) bool { return m == "one" })
	if !strings.Contains(log.String(), "a Received cannot be stashed") {
		t.Fatalf("no error logged for a stashed Received; log: %q", log.String())
	}
}
