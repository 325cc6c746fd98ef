package actor

import (
	"log/slog"
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/ctxext"
)

// handlerContext is the protoactor.Context a socket's handler receives with
// Received on the short road (see Socket.invokeUser): the socket itself,
// seen as a context. It answers what depends on the message at hand
// (Message, Sender, MessageHeader, Forward, Stash) and who it is (Self)
// from the socket, follows the receive timeout (SetReceiveTimeout,
// CancelReceiveTimeout) so that reads take protoactor's road while one is
// set, and hands everything else to the actor's own context, protoactor's.
// A receive timeout set during a short-road Receive through another context
// (protoactor's, kept from an earlier message) is not seen until the next
// message on protoactor's road: set it through the context Receive was
// given.
//
// Why not protoactor's context: on a busy server every read finds the
// socket cold, and protoactor's context is another object, on another page,
// with its code on other pages again. On a machine whose system calls flush
// the TLB (page-table isolation without PCID: most cloud VMs), each of those
// pages costs a page walk per read. In an A/B of the two builds in one run
// (go run ./bench -scenarios b -rounds 7 -baseline OLD), the echo server's
// CPU per message fell by about 4% at 100 connections; on one socket with
// a hot cache (BenchmarkEchoPathLent1) the echo path went from 132 to 121 ns.
//
// Out of the short road (cur is nil: a continuation of ReenterAfter, or a
// context kept past Receive, even one whose Receive panicked), every call
// goes to protoactor's context.
type handlerContext Socket

var _ protoactor.Context = (*handlerContext)(nil)

// base, Message and Self, which every Received calls, are in
// socket_inline.go, with the rest of the read's path.

// MessageHeader implements protoactor.Context: a Received has no header.
func (c *handlerContext) MessageHeader() protoactor.ReadonlyMessageHeader {
	if c.cur != nil {
		return nil
	}
	return c.base().MessageHeader()
}

// Sender implements protoactor.Context: a Received has no sender.
func (c *handlerContext) Sender() *protoactor.PID {
	if c.cur != nil {
		return nil
	}
	return c.base().Sender()
}

// Forward implements protoactor.Context. Forwarding a Received breaks its
// contract (the socket reuses it once Receive returns), but it does what
// protoactor's Forward of a message without a sender does.
func (c *handlerContext) Forward(pid *protoactor.PID) {
	if c.cur != nil {
		c.base().Send(pid, c.cur)
		return
	}
	c.base().Forward(pid)
}

// Stash implements protoactor.Context. A Received cannot be stashed: the
// socket reuses it once Receive returns (keep its Data instead). The
// attempt is logged, and nothing is stashed.
func (c *handlerContext) Stash() {
	if c.cur != nil {
		c.cfg.sys.Logger.Error("overlap: a Received cannot be stashed: it is reused once Receive returns; keep its Data", "socket", c.pid.Id)
		return
	}
	c.base().Stash()
}

// SetReceiveTimeout implements protoactor.Context. While a receive timeout
// is set, Received takes protoactor's road, which resets the timer.
func (c *handlerContext) SetReceiveTimeout(d time.Duration) {
	c.base().SetReceiveTimeout(d)
	c.timeoutSet = d >= time.Millisecond // protoactor's floor: less is none
}

// CancelReceiveTimeout implements protoactor.Context.
func (c *handlerContext) CancelReceiveTimeout() {
	c.base().CancelReceiveTimeout()
	c.timeoutSet = false
}

// String implements fmt.Stringer as protoactor's context does: the PID.
func (c *handlerContext) String() string { return c.pid.String() }

// GoString implements fmt.GoStringer, so %#v does not dump the socket.
func (c *handlerContext) GoString() string { return c.pid.String() }

// The rest is protoactor's context's.

// Parent implements protoactor.Context.
func (c *handlerContext) Parent() *protoactor.PID { return c.base().Parent() }

// Actor implements protoactor.Context.
func (c *handlerContext) Actor() protoactor.Actor { return c.base().Actor() }

// ActorSystem implements protoactor.Context.
func (c *handlerContext) ActorSystem() *protoactor.ActorSystem { return c.base().ActorSystem() }

// Logger implements protoactor.Context.
func (c *handlerContext) Logger() *slog.Logger { return c.base().Logger() }

// ReceiveTimeout implements protoactor.Context.
func (c *handlerContext) ReceiveTimeout() time.Duration { return c.base().ReceiveTimeout() }

// Children implements protoactor.Context.
func (c *handlerContext) Children() []*protoactor.PID { return c.base().Children() }

// Respond implements protoactor.Context. With no sender, as for every
// Received, the response goes to the dead letters, as protoactor's does.
func (c *handlerContext) Respond(response any) { c.base().Respond(response) }

// Watch implements protoactor.Context.
func (c *handlerContext) Watch(pid *protoactor.PID) { c.base().Watch(pid) }

// Unwatch implements protoactor.Context.
func (c *handlerContext) Unwatch(pid *protoactor.PID) { c.base().Unwatch(pid) }

// ReenterAfter implements protoactor.Context. The continuation runs on
// protoactor's road, without the Received (which is reused by then).
func (c *handlerContext) ReenterAfter(f *protoactor.Future, cont func(res any, err error)) {
	c.base().ReenterAfter(f, cont)
}

// Send implements protoactor.Context.
func (c *handlerContext) Send(pid *protoactor.PID, message any) { c.base().Send(pid, message) }

// Request implements protoactor.Context.
func (c *handlerContext) Request(pid *protoactor.PID, message any) { c.base().Request(pid, message) }

// RequestWithCustomSender implements protoactor.Context.
func (c *handlerContext) RequestWithCustomSender(pid *protoactor.PID, message any, sender *protoactor.PID) {
	c.base().RequestWithCustomSender(pid, message, sender)
}

// RequestFuture implements protoactor.Context.
func (c *handlerContext) RequestFuture(pid *protoactor.PID, message any, timeout time.Duration) *protoactor.Future {
	return c.base().RequestFuture(pid, message, timeout)
}

// Receive implements protoactor.Context.
func (c *handlerContext) Receive(envelope *protoactor.MessageEnvelope) { c.base().Receive(envelope) }

// Spawn implements protoactor.Context.
func (c *handlerContext) Spawn(props *protoactor.Props) *protoactor.PID { return c.base().Spawn(props) }

// SpawnPrefix implements protoactor.Context.
func (c *handlerContext) SpawnPrefix(props *protoactor.Props, prefix string) *protoactor.PID {
	return c.base().SpawnPrefix(props, prefix)
}

// SpawnNamed implements protoactor.Context.
func (c *handlerContext) SpawnNamed(props *protoactor.Props, id string) (*protoactor.PID, error) {
	return c.base().SpawnNamed(props, id)
}

// Stop implements protoactor.Context.
func (c *handlerContext) Stop(pid *protoactor.PID) { c.base().Stop(pid) }

// StopFuture implements protoactor.Context.
func (c *handlerContext) StopFuture(pid *protoactor.PID) *protoactor.Future {
	return c.base().StopFuture(pid)
}

// Poison implements protoactor.Context.
func (c *handlerContext) Poison(pid *protoactor.PID) { c.base().Poison(pid) }

// PoisonFuture implements protoactor.Context.
func (c *handlerContext) PoisonFuture(pid *protoactor.PID) *protoactor.Future {
	return c.base().PoisonFuture(pid)
}

// Get implements protoactor.Context.
func (c *handlerContext) Get(id ctxext.ContextExtensionID) ctxext.ContextExtension {
	return c.base().Get(id)
}

// Set implements protoactor.Context.
func (c *handlerContext) Set(ext ctxext.ContextExtension) { c.base().Set(ext) }
