package actor

import (
	"io"
	"log/slog"
	"sync"
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/eventstream"
	"go.uber.org/atomic"
)

// System is overlap's share of an actor system: the sockets it runs, the
// dead-letter watch that turns sends to a gone socket into ErrNotSock, and
// the logger. Make one with NewSystem and stop it with Stop; a transport
// engine needs one.
type System struct {
	// Actors is the protoactor system the socket actors live in.
	Actors *protoactor.ActorSystem
	// Logger receives overlap's log records; quiet by default.
	Logger *slog.Logger

	ownsActors bool
	stopped    atomic.Bool
	deadSub    *eventstream.Subscription
	// The open sockets are found through the actor system's process
	// registry, where each is its own Process (see socketProcess).

	onViolation func(*OwnershipViolation) // WithOwnershipViolationHandler; set by NewSystem, read-only after

	dispMu sync.Mutex // guards disp
	disp   *workers   // Dispatcher's, made on its first call
}

// SystemOption configures NewSystem.
type SystemOption func(*System)

// WithActorSystem makes overlap use an actor system the caller already runs.
// Stopping the System then leaves the actor system running. Its process
// registry is left as protoactor made it: 32,768 maps, in which, below some
// tens of thousands of actors, each socket costs about 250 bytes more than
// in the registry NewSystem sizes for sockets (see registryBuckets).
func WithActorSystem(as *protoactor.ActorSystem) SystemOption {
	return func(s *System) { s.Actors = as }
}

// WithLogger sends overlap's log records to l.
func WithLogger(l *slog.Logger) SystemOption {
	return func(s *System) { s.Logger = l }
}

// NewSystem starts overlap on an actor system: the caller's (WithActorSystem)
// or a new one with protoactor's logging silenced and a process registry of
// fewer, fuller maps. It starts no goroutine of its own.
func NewSystem(opts ...SystemOption) *System {
	s := &System{}
	for _, o := range opts {
		o(s)
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.Actors == nil {
		quiet := s.Logger
		s.Actors = protoactor.NewActorSystem(
			protoactor.WithLoggerFactory(func(*protoactor.ActorSystem) *slog.Logger { return quiet }),
			// protoactor starts a goroutine per throttle period after a dead
			// letter; keep the period short so none outlives a Stop by much.
			protoactor.WithDeadLetterThrottleInterval(10*time.Millisecond))
		s.ownsActors = true
		resizeRegistry(s.Actors.ProcessRegistry, registryBuckets)
	}
	s.deadSub = s.Actors.EventStream.Subscribe(s.onEvent)
	return s
}

// onEvent completes sends that became dead letters: a Send to a PID that is
// not (or no longer) a socket gets ErrNotSock instead of vanishing.
func (s *System) onEvent(evt any) {
	dl, ok := evt.(*protoactor.DeadLetterEvent)
	if !ok {
		return
	}
	msg := dl.Message
	var sender *protoactor.PID
	if env, ok := msg.(*protoactor.MessageEnvelope); ok {
		msg, sender = env.Message, env.Sender
	}
	if sender == nil {
		sender = dl.Sender
	}
	if m, ok := msg.(*Send); ok {
		err := ErrNotSock
		if !s.Running() {
			err = ErrNotInitialised
		}
		s.reject(dl.PID, m, sender, err)
	}
}

// reject completes a send that was never queued.
func (s *System) reject(pid *protoactor.PID, m *Send, sender *protoactor.PID, err error) {
	if m == nil {
		return // no send, nothing to complete
	}
	var op sendOp
	_ = op.start(m, replyTarget(m, sender)) // a pending Overlapped is left out
	s.complete(pid, &op, 0, err)
}

// Running reports whether the system accepts sockets and sends.
func (s *System) Running() bool { return !s.stopped.Load() }

// Lookup returns the socket behind pid, or ErrNotSock.
func (s *System) Lookup(pid *protoactor.PID) (*Socket, error) {
	if pid == nil {
		return nil, ErrNotSock
	}
	p, _ := s.Actors.ProcessRegistry.GetLocal(pid.Id)
	if sock := s.socketOf(p); sock != nil {
		return sock, nil
	}
	return nil, ErrNotSock
}

// socketOf returns the socket p is, if it is one of s's and open, or nil.
func (s *System) socketOf(p any) *Socket {
	if sp, ok := p.(*socketProcess); ok && (*Socket)(sp).open(s) {
		return (*Socket)(sp)
	}
	return nil
}

// Sockets reports how many sockets are open on the system: spawned, and
// not yet closed or stopped. It walks the actor system's registry: a
// diagnostic, not for a hot path.
func (s *System) Sockets() int {
	n := 0
	for _, m := range s.Actors.ProcessRegistry.LocalPIDs.LocalPIDs {
		m.IterCb(func(_ string, p any) {
			if s.socketOf(p) != nil {
				n++
			}
		})
	}
	return n
}

// Send submits m to the socket at pid from outside any actor: like
// Socket.Send, but a pid that is not a live socket fails with ErrNotSock
// (and completes m with it).
// Each call looks pid up in the actor system's registry (two hashes and a
// shard's read lock): a sender in a hot loop calls Lookup once and keeps
// the *Socket.
func (s *System) Send(pid *protoactor.PID, m *Send) error {
	sock, err := s.Lookup(pid)
	if err != nil {
		s.reject(pid, m, nil, err)
		return err
	}
	return sock.Send(m)
}

// Stop marks the system stopped: sends fail with ErrNotInitialised from now
// on. Engines must be stopped first; an actor system made by NewSystem is
// shut down too.
func (s *System) Stop() {
	if !s.stopped.CompareAndSwap(false, true) {
		return
	}
	s.stopDispatcher()
	if s.ownsActors {
		s.Actors.EventStream.Unsubscribe(s.deadSub)
		s.Actors.Shutdown()
	}
	// On the caller's actor system the dead-letter watch stays: a Send to a
	// gone socket still completes, with ErrNotInitialised.
}
