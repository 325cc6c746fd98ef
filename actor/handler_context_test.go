package actor

import (
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/wsabuf"
)

// shortRoadSocket starts a socket for props on a fake connection and
// returns it, its connection, and a function that delivers s as received
// bytes, on the loop.
func shortRoadSocket(t *testing.T, sys *System, props *protoactor.Props) (*Socket, *fakeConn, func(s string)) {
	t.Helper()
	fc := newFakeConn(ConnInfo{Network: "tcp", Connected: true})
	t.Cleanup(func() {
		fc.stop(t)
		sys.Stop()
		fc.mu.Lock()
		defer fc.mu.Unlock()
		for _, v := range fc.violations {
			t.Errorf("fakeconn contract violation: %s", v)
		}
	})
	var sock *Socket
	var ep *Endpoint
	var err error
	fc.do(t, func() {
		if sock, ep, err = NewSocket(sys, fc, props, Options{}); err == nil {
			ep.Start()
		}
	})
	if err != nil {
		t.Fatalf("NewSocket: %v", err)
	}
	return sock, fc, func(s string) {
		fc.do(t, func() {
			buf, _ := wsabuf.Default().Get(len(s))
			copy(buf.Bytes(), s)
			ep.Received(buf, nil)
		})
	}
}

// road names the road a Received came by: the socket's context, or
// protoactor's.
func road(ctx protoactor.Context) string {
	if _, ok := ctx.(*handlerContext); ok {
		return "short"
	}
	return "protoactor"
}

// On the short road the handler's context is the socket's: it answers for
// the Received and the actor as protoactor's would, and, kept past Receive
// (even one that panicked), it answers for whatever message protoactor is
// delivering.
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
			boom := string(m.Data.Bytes()) == "boom"
			m.Data.Release()
			kept = ctx
			if boom {
				panic("boom") // the supervisor restarts the actor
			}
		case string:
			rec.add("kept context sees " + kept.Message().(string))
		}
	})
	sock, _, receive := shortRoadSocket(t, sys, props)
	receive("one")
	rec.waitFor(t, "the third check", func(any) bool { return len(rec.all()) == 3 })
	if all := rec.all(); all[0] != true || all[1] != true || all[2] != true {
		t.Fatalf("socket's own context, Self is the socket, no sender or header, actor and system: %v", all)
	}
	sys.Actors.Root.Send(sock.PID(), "probe")
	rec.waitFor(t, "the kept context answering for the probe", func(m any) bool { return m == "kept context sees probe" })
	// Kept from a Receive that panicked, too.
	receive("boom")
	sys.Actors.Root.Send(sock.PID(), "probe after a panic")
	rec.waitFor(t, "the context kept from a panicking Receive answering for the probe", func(m any) bool {
		return m == "kept context sees probe after a panic"
	})
}

// A receive timeout must be reset by every Received, which protoactor's
// road does: while one is set, Received goes that way. One set on
// protoactor's context (here in Connected) holds until it fires; one set
// and cancelled on the socket's context takes effect at once.
func TestHandlerContextReceiveTimeout(t *testing.T) {
	sys := NewSystem()
	rec := newRecorder()
	props := protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		switch m := ctx.Message().(type) {
		case *Connected:
			ctx.SetReceiveTimeout(50 * time.Millisecond) // protoactor's context
		case *protoactor.ReceiveTimeout:
			rec.add("timed out")
		case *Received:
			word := string(m.Data.Bytes())
			m.Data.Release()
			rec.add(word + ": " + road(ctx))
			switch word {
			case "set and cancel":
				ctx.SetReceiveTimeout(time.Hour)
				ctx.CancelReceiveTimeout()
			case "set":
				ctx.SetReceiveTimeout(time.Hour)
			}
		}
	})
	_, _, receive := shortRoadSocket(t, sys, props)
	step := func(send, want string) {
		t.Helper()
		receive(send)
		rec.waitFor(t, want, func(m any) bool { return m == want })
	}
	step("one", "one: protoactor") // set in Connected
	rec.waitFor(t, "the timeout", func(m any) bool { return m == "timed out" })
	step("two", "two: short") // protoactor cancelled it when it fired
	step("set and cancel", "set and cancel: short")
	step("three", "three: short")
	step("set", "set: short")
	step("four", "four: protoactor")
}

// A handler context kept past its Receive and used from another goroutine
// is no longer in a run: SendFrom then behaves as Send.
func TestHandlerContextSendFromOutsideRun(t *testing.T) {
	sys := NewSystem()
	rec := newRecorder()
	var mu sync.Mutex
	var kept protoactor.Context
	props := protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		if m, ok := ctx.Message().(*Received); ok {
			m.Data.Release()
			mu.Lock()
			kept = ctx
			mu.Unlock()
			rec.add("kept")
		}
	})
	sock, fc, receive := shortRoadSocket(t, sys, props)
	receive("one")
	rec.waitFor(t, "kept", func(m any) bool { return m == "kept" })
	mu.Lock()
	ctx := kept
	mu.Unlock()
	ov := new(Overlapped)
	if n, err := sock.SendFrom(ctx, &Send{Buffers: wsabuf.Buffers{[]byte("later")}, Overlapped: ov}); n != 0 || err != ErrIOPending {
		t.Errorf("SendFrom off the loop = (%d, %v), want (0, ErrIOPending)", n, err)
	}
	if n, err := waitOv(t, ov); n != 5 || err != nil {
		t.Errorf("its completion (%d, %v), want (5, nil)", n, err)
	}
	if got := string(fc.wireBytes()); got != "later" {
		t.Errorf("wire %q", got)
	}
}

// restartingActor is a handler with state: each incarnation has its own
// number, and the word "boom" makes it panic. The first sets a receive
// timeout when it starts.
type restartingActor struct {
	n   int64
	rec *recorder
}

func (a *restartingActor) Receive(ctx protoactor.Context) {
	if _, ok := ctx.Message().(*protoactor.Started); ok && a.n == 1 {
		ctx.SetReceiveTimeout(time.Hour) // the first incarnation only
	}
	if m, ok := ctx.Message().(*Received); ok {
		word := string(m.Data.Bytes())
		m.Data.Release()
		if word == "boom" {
			panic("boom")
		}
		a.rec.add(word + " by incarnation " + string(rune('0'+a.n)) + ", " + road(ctx))
	}
}

// A restart makes a new actor: the short road must deliver to it, not to
// the one that failed. The restart also cancels the receive timeout, so the
// new actor's reads take the short road (the first's took protoactor's).
func TestHandlerContextRestartMakesNewActor(t *testing.T) {
	sys := NewSystem()
	rec := newRecorder()
	var made atomic.Int64
	props := protoactor.PropsFromProducer(func() protoactor.Actor {
		return &restartingActor{n: made.Add(1), rec: rec}
	})
	_, _, receive := shortRoadSocket(t, sys, props)
	receive("one")
	rec.waitFor(t, "one by the first", func(m any) bool { return m == "one by incarnation 1, protoactor" })
	receive("boom")
	receive("two")
	rec.waitFor(t, "two by the second, by the short road", func(m any) bool { return m == "two by incarnation 2, short" })
}

// parentActor is restartingActor whose first incarnation also spawns a
// child, which holds its stop until the test lets it go.
type parentActor struct {
	restartingActor
	childStopping chan<- struct{} // the child has begun to stop
	letChildStop  <-chan struct{}
}

func (a *parentActor) Receive(ctx protoactor.Context) {
	if _, ok := ctx.Message().(*protoactor.Started); ok && a.n == 1 {
		ctx.Spawn(protoactor.PropsFromFunc(func(c protoactor.Context) {
			if _, ok := c.Message().(*protoactor.Stopping); ok {
				a.childStopping <- struct{}{}
				<-a.letChildStop
			}
		}))
	}
	a.restartingActor.Receive(ctx)
}

// A restart of an actor with children waits for them to stop (protoactor
// finishes it on the last child's Terminated): the socket must then, and
// only then, take the new actor, with the old one's receive timeout
// cancelled, so reads go to the new actor by the short road.
func TestHandlerContextRestartWaitsForChildren(t *testing.T) {
	sys := NewSystem()
	rec := newRecorder()
	stopping, letStop := make(chan struct{}, 1), make(chan struct{})
	var made atomic.Int64
	props := protoactor.PropsFromProducer(func() protoactor.Actor {
		return &parentActor{restartingActor: restartingActor{n: made.Add(1), rec: rec}, childStopping: stopping, letChildStop: letStop}
	})
	var once sync.Once
	release := func() { once.Do(func() { close(letStop) }) }
	_, _, receive := shortRoadSocket(t, sys, props)
	t.Cleanup(release) // before the system stops, whatever failed
	receive("one")
	rec.waitFor(t, "one by the first", func(m any) bool { return m == "one by incarnation 1, protoactor" })
	receive("boom")
	select {
	case <-stopping:
	case <-time.After(testDeadline):
		t.Fatal("the restart did not stop the child")
	}
	receive("two") // queued while the restart waits for the child
	rec.add("child let go")
	release()
	got := rec.waitFor(t, "two, read by some actor", func(m any) bool { s, _ := m.(string); return strings.HasPrefix(s, "two by ") })
	if got != "two by incarnation 2, short" {
		t.Errorf("%q, want \"two by incarnation 2, short\": the new actor, by the short road", got)
	}
	all := rec.all()
	if i := slices.Index(all, any("child let go")); i < 0 || slices.Index(all, got) < i {
		t.Errorf("the read came before the child had stopped: %v", all)
	}
	if n := made.Load(); n != 2 {
		t.Errorf("%d incarnations, want 2", n)
	}
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
	_, _, receive := shortRoadSocket(t, sys, props)
	receive("one")
	if got := rec.waitFor(t, "a Received", func(any) bool { return true }); got != true {
		t.Fatal("the handler got a Received without its decorated context")
	}
}

// logTo is a log destination that hands each record to a recorder.
type logTo struct{ rec *recorder }

func (l logTo) Write(p []byte) (int, error) { l.rec.add(string(p)); return len(p), nil }

// Stashing a Received, which the socket reuses, is refused with an error in
// the log; the handler goes on.
func TestHandlerContextStashRefused(t *testing.T) {
	logs := newRecorder()
	sys := NewSystem(WithLogger(slog.New(slog.NewTextHandler(logTo{logs}, nil))))
	rec := newRecorder()
	props := protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		if m, ok := ctx.Message().(*Received); ok {
			ctx.Stash()
			rec.add(string(m.Data.Bytes()))
			m.Data.Release()
		}
	})
	_, _, receive := shortRoadSocket(t, sys, props)
	receive("one")
	rec.waitFor(t, "one", func(m any) bool { return m == "one" })
	logs.waitFor(t, "the refusal logged", func(m any) bool {
		s, _ := m.(string)
		return strings.Contains(s, "a Received cannot be stashed")
	})
}
