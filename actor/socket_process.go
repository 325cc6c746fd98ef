package actor

import (
	protoactor "github.com/asynkron/protoactor-go/actor"
)

// socketProcess is the socket seen as its actor's protoactor Process, the
// registry's entry for its PID. protoactor would register an ActorProcess
// (a mailbox and a dead flag) per actor; the socket already is the mailbox,
// and registering it directly saves that object and lets System.Lookup
// find a socket from its PID without a table of its own.
//
// A PID caches the Process it resolved to and, unlike an ActorProcess, this
// one never tells it to look again: once the actor has stopped, messages
// go to the dead-letter process, as a fresh lookup would have sent them.
type socketProcess Socket

var _ protoactor.Process = (*socketProcess)(nil)

// stopMsg is the Stop a Process's Stop posts, as protoactor's own does.
var stopMsg = &protoactor.Stop{}

// SendUserMessage implements protoactor.Process.
func (p *socketProcess) SendUserMessage(pid *protoactor.PID, msg any) {
	s := (*Socket)(p)
	if s.stopped.Load() {
		s.cfg.sys.Actors.DeadLetter.SendUserMessage(pid, msg)
		return
	}
	(*socketMailbox)(s).PostUserMessage(msg)
}

// SendSystemMessage implements protoactor.Process.
func (p *socketProcess) SendSystemMessage(pid *protoactor.PID, msg any) {
	s := (*Socket)(p)
	if s.stopped.Load() {
		// A Watch then gets its Terminated from the dead-letter process.
		s.cfg.sys.Actors.DeadLetter.SendSystemMessage(pid, msg)
		return
	}
	(*socketMailbox)(s).PostSystemMessage(msg)
}

// Stop implements protoactor.Process.
func (p *socketProcess) Stop(pid *protoactor.PID) { p.SendSystemMessage(pid, stopMsg) }

// open reports whether the socket belongs to sys and is neither closed nor
// stopped.
func (s *Socket) open(sys *System) bool {
	return s.cfg.sys == sys && !s.closedOnce.Load() && !s.stopped.Load()
}
