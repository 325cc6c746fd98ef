package actor

import (
	"net"
	"unsafe"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/wsabuf"
)

// This file holds what runs for every message on the inline path, in the
// order it runs: a read delivered to an idle handler (Endpoint.Received), a
// SendFrom written at once, its completion, and the end of the mailbox run.
//
// They are kept together on purpose. The Go linker lays functions out in
// source order, so these share a few pages of code instead of a dozen; and
// on machines whose kernels flush the TLB at every system call (page-table
// isolation without PCID, common on cloud VMs) each page touched after a
// read or write costs a page walk. Measured with go run ./bench -baseline
// (A/B of two builds in one run): gathering them here took overlap's server
// CPU per message against raw gnet at 1,000 connections from 1.12 to 1.11,
// and left 100 connections unchanged: small, within the noise.
// BenchmarkEchoPathSyscalls shows the effect without a network. Keep rare
// branches in the files of their topic, out of this one.

// hotBytes is how much of the Socket the inline path reads: the fields up
// to and including the submit queue.
const hotBytes = unsafe.Offsetof(Socket{}.in) + unsafe.Sizeof(Socket{}.in)

// Received hands bytes read from the connection to the handler, running it
// inline when it is idle. The socket takes over data's reference.
func (e *Endpoint) Received(data *wsabuf.Buf, from net.Addr) {
	s := (*Socket)(e)
	// On a busy server this socket is cold: ask for all the lines the
	// inline path reads at once, rather than meet each miss in turn.
	for off := uintptr(64); off < hotBytes; off += 64 {
		prefetch(unsafe.Add(unsafe.Pointer(s), off))
	}
	if s.detached.Load() {
		if s.closedOnce.Load() {
			data.Release() // closed: nobody reads any more
			return
		}
		// No loop owns this socket: queue for the goroutine that runs it.
		data.Own(nil)
		s.postUser(&Received{Socket: s, Data: data, From: from})
		s.schedule()
		return
	}
	if max := s.cfg.maxUnreleasedRead; max > 0 {
		data.OnRelease(s.onReleased)
		if s.unreleased.Add(int64(data.Len())) >= max && !s.autoPaused {
			s.applyReadState()
		}
	}
	var r *Received
	switch {
	case !s.recvBusy:
		r, s.recvBusy = &s.recv, true
	case s.cold != nil && len(s.cold.recvFree) > 0:
		c := s.cold
		r = c.recvFree[len(c.recvFree)-1]
		c.recvFree = c.recvFree[:len(c.recvFree)-1]
	default:
		r = new(Received)
	}
	r.Socket, r.Data, r.From = s, data, from
	if s.sysMsgs.Load() == 0 && s.userMsgs.Load() == 0 && !s.suspended.Load() && !s.stopped.Load() &&
		s.status.CompareAndSwap(mbIdle, mbRunning) {
		// Idle and nothing queued: hand the bytes to the handler directly,
		// then finish the run (what it sent, what arrived meanwhile).
		s.inRun.Store(true)
		if data.Lent() {
			s.lent = data
		}
		s.deliver(r)
		s.process(true)
		s.lent = nil
		return
	}
	data.Own(nil) // it waits in the mailbox, past the read
	s.postUser(r)
	s.runInline()
}

// deliver hands one user message to the actor, then recycles a Received and
// stops the actor after Closed.
func (s *Socket) deliver(msg any) {
	if s.stopped.Load() {
		discard(msg) // the actor is gone; protoactor drops these too
		return
	}
	s.invokeUser(msg)
	switch m := msg.(type) {
	case *Received:
		if m.Socket == s && !s.detached.Load() {
			// The handler has returned: recycle the message (not its Data,
			// which the handler owns). See Received.
			*m = Received{}
			if m == &s.recv {
				s.recvBusy = false
			} else {
				c := s.coldState()
				c.recvFree = append(c.recvFree, m)
			}
		}
	case *Closed:
		if m.Socket == s {
			// The handler has seen the end of the connection: stop the actor.
			s.cfg.sys.Actors.Root.Stop(s.pid)
		}
	}
}

// invokeUser hands msg to the actor. Received bytes take the short road when
// nothing would see the difference (no receiver middleware, context
// decorator, metrics or receive timeout: see receiver and timeoutSet):
// straight into the actor's Receive, with the socket as its context
// (handlerContext). Everything else goes through protoactor's
// InvokeUserMessage.
func (s *Socket) invokeUser(msg any) {
	done := false
	defer func() {
		if !done { // recover only on the way out of a panic: it costs a runtime call
			s.cur = nil // a context kept past this Receive answers for protoactor's message again
			s.noteReceiveTimeout()
			s.escalate(recover(), msg)
		}
	}()
	if r, ok := msg.(*Received); ok && s.receiver != nil && !s.timeoutSet {
		if s.handler == nil {
			s.handler = handlerOf(s.receiver.Actor())
		}
		s.cur = r
		s.handler((*handlerContext)(s))
		s.cur = nil
		done = true
		return
	}
	s.invoker.InvokeUserMessage(msg)
	if _, ok := msg.(*protoactor.ReceiveTimeout); ok {
		s.timeoutSet = false // protoactor cancelled it before sending this; the handler may have set another
	}
	s.noteReceiveTimeout()
	done = true
}

// handlerOf is a's Receive as a func, without protoactor's ReceiveFunc
// method in between for the common actor made by PropsFromFunc.
func handlerOf(a protoactor.Actor) func(protoactor.Context) {
	if f, ok := a.(protoactor.ReceiveFunc); ok {
		return f
	}
	return a.Receive
}

// noteReceiveTimeout records that the actor has a receive timeout, after a
// delivery on protoactor's road, where the handler may have set one on
// protoactor's context. It reads protoactor's value only while none is
// known: once a timer runs, protoactor's timer goroutine writes that value
// when it fires (unsynchronised), so from then on the flag changes only
// where no timer can be running: the handler's own calls on its
// handlerContext, the ReceiveTimeout message (protoactor cancels before
// sending it) and a restart. A flag left set by a cancel on protoactor's
// context only keeps Received on the slower road.
func (s *Socket) noteReceiveTimeout() {
	if !s.timeoutSet && s.receiver != nil {
		s.timeoutSet = s.receiver.ReceiveTimeout() != 0
	}
}

// escalate turns a panic, recovered around an invocation, into a failure for
// the actor's supervisor, as protoactor's own mailbox does. A nil r (the
// goroutine is exiting, not panicking) is not a failure.
func (s *Socket) escalate(r, msg any) {
	if r != nil {
		s.invoker.EscalateFailure(r, msg)
	}
}

// The handler's context on the short road: see handler_context.go.

func (c *handlerContext) base() protoactor.Context { return c.receiver }

// Message implements protoactor.Context: the Received being delivered.
func (c *handlerContext) Message() any {
	if c.cur != nil {
		return c.cur
	}
	return c.base().Message()
}

// Self implements protoactor.Context: the socket's PID.
func (c *handlerContext) Self() *protoactor.PID { return c.pid }

// SendFrom is Send for the socket's own handler, called with the Context of
// its Receive: when nothing is queued ahead, the bytes are written at once
// and SendFrom returns their count with a nil error (the completion is still
// delivered if one was asked for). Otherwise it behaves like Send. Called with
// any other context, it is Send.
func (s *Socket) SendFrom(ctx protoactor.Context, m *Send) (int, error) {
	if hc, ok := ctx.(*handlerContext); ok && (*Socket)(hc) == s && s.inRun.Load() {
		return s.sendNow(m) // the short road's context: no interface call
	}
	if ctx == nil || s == nil || !s.inRun.Load() || !samePID(ctx.Self(), s.pid) {
		return 0, s.submit(m, nil)
	}
	return s.sendNow(m)
}

// holdErr reports a Hold that is already released.
func holdErr(h Releaser) error {
	switch h := h.(type) {
	case nil:
		return nil
	case *wsabuf.Buf: // the common case, without an interface assertion
		return h.Err()
	case interface{ Err() error }:
		return h.Err()
	}
	return nil
}

// setBuffers captures the caller's segment headers (not the bytes).
func (op *sendOp) setBuffers(bufs [][]byte) {
	op.size = 0
	for _, b := range bufs {
		op.size += len(b)
	}
	op.nseg = int32(len(bufs))
	if len(bufs) <= inlineSegs {
		copy(op.inline[:], bufs)
		return
	}
	op.extra = getSegArray(len(bufs))
	copy(op.extra.s, bufs)
}

// validate checks a send against the socket before anything is queued:
// m, with region, accept's copy of m.File (read when m.File is set), and
// what op.start took of it, its Hold (left out when already released).
func (s *Socket) validate(m *Send, op *sendOp, region *FileRegion) error {
	if !s.cfg.sys.Running() {
		return ErrNotInitialised
	}
	if m.Flags&^knownFlags != 0 {
		return ErrOpNotSupported
	}
	if s.hot.datagram {
		if m.Flags&(MsgOOB|MsgConfirm) != 0 {
			return ErrOpNotSupported
		}
		if !s.hot.connected {
			return ErrNotConn
		}
		if m.Flags&MsgPartial == 0 && s.hot.maxMsgSize > 0 && m.Buffers.Len() > int(s.hot.maxMsgSize) {
			return ErrMsgSize
		}
	} else if m.Flags&MsgPartial != 0 {
		return ErrOpNotSupported
	}
	if m.File != nil {
		if err := s.validateFile(m.Flags, region); err != nil {
			return err
		}
	}
	if m.Hold != nil && op.hold == nil { // start found it released
		return &OpError{Op: "wsasend", Kind: ErrFault, Err: holdErr(m.Hold)}
	}
	return nil
}

// accept starts op, the operation of m, and validates it; a refused send
// is completed here, at once. op is the caller's (usually on its stack):
// filled in place, not returned, since it is large and on every send's path.
func (s *Socket) accept(op *sendOp, m *Send, replyTo *protoactor.PID) error {
	if m == nil {
		return ErrInvalid // no send: nothing to complete
	}
	if s == nil || s.cfg == nil {
		// Not a socket the system made (nil, or a zero Socket): there is
		// no system to send a Completion through, but the Overlapped and
		// the Hold are still settled, once.
		err := ErrNotSock
		if s != nil {
			err = ErrNotInitialised
		}
		_ = op.start(m, nil) // a pending Overlapped is left out, as always
		op.finish(0, err)
		return err
	}
	err := op.start(m, replyTo)
	// The region is read once, here: the caller may reuse its FileRegion
	// for the next send as soon as this one returns. It is kept (on the
	// heap) only once it is valid and not empty: an empty region is a
	// plain send of the buffers.
	var region FileRegion
	if m.File != nil {
		region = *m.File
	}
	if err == nil {
		err = s.validate(m, op, &region)
	}
	if err != nil {
		s.cfg.sys.complete(s.pid, op, 0, err)
		return err
	}
	op.setBuffers(m.Buffers)
	if m.File != nil && region.Length > 0 {
		op.file = new(FileRegion)
		*op.file = region
		op.size += int(region.Length)
	}
	fingerprint(s, op) // overlapdebug only: the single submit point
	return nil
}

// start begins the operation of a Send in a zero op: it captures the
// completion targets and arms the Overlapped. A Hold already released is
// left out: it is refused with ErrFault, and releasing it again would be a
// second bug. An Overlapped still pending for another send is left out too
// (that send owns its completion) and the op fails with ErrInvalid. The
// buffers are captured later, once the send is accepted.
func (op *sendOp) start(m *Send, replyTo *protoactor.PID) error {
	op.flags, op.replyTo, op.tag = m.Flags, replyTo, m.Tag
	if holdErr(m.Hold) == nil {
		op.hold = m.Hold
	}
	if ov := m.Overlapped; ov != nil {
		if ov.arm() != nil {
			return ErrInvalid
		}
		op.ov = ov
	}
	return nil
}

// admit checks the socket's state and limits for one more send of size
// bytes and counts it as pending. s.mu is held.
func (s *Socket) admit(size int) error {
	switch {
	case s.refused != nil:
		return s.refused
	case s.shut:
		return ErrShutdown
	}
	ps, pb := unpackPending(s.pending.Load())
	if int64(ps) >= s.cfg.maxPendingSends || pb > 0 && int64(pb+size) > s.cfg.maxPendingBytes {
		return ErrWouldBlock
	}
	s.pending.Add(packPending(size))
	return nil
}

// sendNow is SendFrom's immediate path, on the loop inside the handler.
// What is here is the common case, a plain stream send written whole; the
// rest is outlined (socket_flush.go) to keep this path's code small.
func (s *Socket) sendNow(m *Send) (int, error) {
	var op sendOp
	if err := s.accept(&op, m, m.ReplyTo); err != nil {
		return 0, err
	}
	s.mu.Lock()
	err := s.admit(op.held())
	if err != nil || len(s.in) > 0 || s.head < len(s.act) || s.waitWritable || s.closedOnce.Load() || op.flags&MsgPartial != 0 {
		return s.sendNowQueue(&op, err) // unlocks s.mu
	}
	s.mu.Unlock()
	// Nothing is ahead of this send: write it now, and queue what is left.
	// SendFrom is synchronous, so one result slot per socket serves it.
	s.direct, s.directDone = directResult{}, false
	op.direct = true
	if s.hot.datagram || op.alone() {
		return s.sendNowQueued(&op)
	}
	if len(m.Buffers) > wsabuf.MaxIOV {
		return s.sendNowLong(&op)
	}
	// A plain stream send is written straight from the caller's segment
	// list (nothing of it is sent yet, and the call is synchronous); only
	// a remainder joins the writer's queue.
	var n int
	var werr error
	if op.size > 0 {
		n, werr = s.writev(m.Buffers)
	}
	if werr != nil || n != op.size {
		return s.sendNowRest(&op, n, op.size, werr)
	}
	return s.sendNowDone(&op, n)
}

// sendNowDone completes a send SendFrom wrote whole.
func (s *Socket) sendNowDone(op *sendOp, n int) (int, error) {
	s.sendNowWritten(op, n)
	s.written(op)
	if !s.directDone {
		return 0, ErrIOPending // behind a send awaiting acknowledgement
	}
	return s.direct.n, s.direct.err
}

// keepLent moves op's segments that view a lent receive buffer (its Hold,
// or the Received.Data of this inline run) to a copy of their own, before
// op outlives the read. See Options.LendReceived. Loop only.
func (s *Socket) keepLent(op *sendOp) {
	ownHeld(op)
	if s.lent != nil && s.lent != op.hold {
		s.lent.Own(op.segs())
	}
}

// ownHeld is keepLent for the Hold alone, safe from any goroutine.
func ownHeld(op *sendOp) {
	if b, ok := op.hold.(*wsabuf.Buf); ok {
		b.Own(op.segs())
	}
}

// writev writes through the transport, with the test hook.
func (s *Socket) writev(wv [][]byte) (int, error) {
	n, err := s.conn.Writev(wv)
	if n < 0 {
		n = 0
	}
	return n, err
}

// written completes a send the kernel has taken whole, unless it waits for
// the peer's acknowledgement (MsgConfirm) or behind one that does.
func (s *Socket) written(op *sendOp) {
	if op.flags&MsgConfirm == 0 && !s.acksPending() {
		s.completeOp(op, op.size, nil)
		return
	}
	c := s.coldState()
	c.acks = append(c.acks, *op)
	c.acks[len(c.acks)-1].direct = false // SendFrom reports it pending
	s.armAckPoll()
}

// completeOp ends one send: counters, hold, Overlapped, message.
func (s *Socket) completeOp(op *sendOp, n int, err error) {
	if op.kind != opData {
		return
	}
	s.pending.Add(-packPending(op.held()))
	if op.direct {
		s.direct, s.directDone = directResult{n: n, err: err}, true
		op.direct = false
	}
	if op.replyTo != nil && op.replyTo.Equal(s.pid) && !s.stopped.Load() {
		// A completion for the socket's own handler: queue it directly.
		op.finish(n, err)
		s.postUser(&Completion{Socket: s.pid, Overlapped: op.ov, Tag: op.tag, Bytes: n, Err: err})
		return
	}
	s.cfg.sys.complete(s.pid, op, n, err)
}

// finish releases what the send held (its pooled segment list, its Hold)
// and completes its Overlapped, after the ownership check of an
// overlapdebug build, which reads the segments; the completion message is
// the caller's.
func (op *sendOp) finish(n int, err error) {
	verify(op, n, err) // overlapdebug only: the single completion point
	op.releaseSegs()
	if op.hold != nil {
		op.hold.Release()
	}
	if op.ov != nil {
		op.ov.complete(n, err)
	}
}

// releaseSegs gives a completed send's segment array back to its pool. The
// op is completed once, and nothing reads its segments after (copies of it
// left in the writer's queues are cleared without reading them).
func (op *sendOp) releaseSegs() {
	if a := op.extra; a != nil {
		op.extra = nil
		clear(a.s[:op.nseg]) // do not pin the caller's buffers
		if c := segClass(cap(a.s)); c < len(segPools) {
			segPools[c].Put(a)
		}
	}
}

// complete delivers the end of one send: the hold is released, the
// Overlapped completed, the completion message sent.
func (s *System) complete(pid *protoactor.PID, op *sendOp, n int, err error) {
	op.finish(n, err)
	if op.replyTo != nil {
		s.Actors.Root.Send(op.replyTo, &Completion{Socket: pid, Overlapped: op.ov, Tag: op.tag, Bytes: n, Err: err})
	}
}

// process runs the mailbox until it is empty. onLoop says whether the caller
// is the connection's event loop, the only place sends are written.
func (s *Socket) process(onLoop bool) {
	for {
		if onLoop && !s.inRun.Load() { // Received has set it already
			s.inRun.Store(true)
		}
		yield := s.drainMessages(onLoop)
		if onLoop {
			s.flush()
			s.inRun.Store(false)
		}
		s.status.Store(mbIdle)
		if !s.hasWork(onLoop) || !s.status.CompareAndSwap(mbIdle, mbRunning) {
			return
		}
		if yield {
			s.dispatch() // let the loop serve other connections first
			return
		}
	}
}

// drainMessages delivers queued system and user messages to the actor, up to
// the throughput budget; it reports whether the budget ran out.
func (s *Socket) drainMessages(onLoop bool) (yield bool) {
	for i := 0; ; {
		if s.sysMsgs.Load() == 0 && s.userMsgs.Load() == 0 {
			return false // a post racing with this check schedules another run
		}
		s.mu.Lock()
		if len(s.sysq) > 0 {
			msg := s.sysq[0]
			s.sysq[0] = nil
			s.sysq = s.sysq[1:]
			if len(s.sysq) == 0 {
				s.sysq = nil // let the array go: an idle socket holds none
			}
			s.mu.Unlock()
			s.sysMsgs.Add(-1)
			s.invokeSystem(msg, onLoop)
			continue
		}
		if s.suspended.Load() && !s.stopped.Load() {
			s.mu.Unlock()
			return false // resumed by a system message, which schedules a run
		}
		if i >= s.cfg.throughput {
			s.mu.Unlock()
			return true
		}
		msg, ok := s.userq.pop()
		s.mu.Unlock()
		if !ok {
			return false
		}
		s.userMsgs.Add(-1)
		i++
		s.deliver(msg)
	}
}

// flush writes what it can of the queued sends. It stops at a partial write
// (and waits for Writable), at a graceful close, or when the queue is empty.
func (s *Socket) flush() {
	if s.closedOnce.Load() {
		return
	}
	if s.sends.Load() > 0 {
		s.take() // a submit racing with this check schedules another run
	}
	if s.head < len(s.act) && !s.waitWritable {
		s.writeQueued()
	}
	if s.head == len(s.act) {
		s.resetAct()
	}
	s.checkWatermarks()
}

// hasWork reports whether process should go round again.
func (s *Socket) hasWork(onLoop bool) bool {
	if s.sysMsgs.Load() > 0 || s.userMsgs.Load() > 0 && (!s.suspended.Load() || s.stopped.Load()) {
		return true
	}
	if !onLoop || s.closedOnce.Load() {
		return false
	}
	if s.sends.Load() > 0 && !s.waitWritable || s.ctrls.Load() > 0 {
		return true // control operations act even while the writer waits
	}
	// Sends queued behind a full socket still move the watermarks.
	_, due := s.watermarkDue()
	return due
}

// watermarkDue reports the pending bytes and whether they crossed the
// watermark the socket is waiting for (high when writable, low when not).
func (s *Socket) watermarkDue() (int, bool) {
	_, pb := unpackPending(s.pending.Load())
	if s.unwritable {
		return pb, pb <= s.cfg.lowWatermark
	}
	return pb, pb >= s.cfg.highWatermark
}

// checkWatermarks tells the watermark target when the pending bytes cross
// the high watermark, and again when they fall back to the low one.
func (s *Socket) checkWatermarks() {
	pb, due := s.watermarkDue()
	if !due {
		return
	}
	s.unwritable = !s.unwritable
	if s.unwritable {
		s.notify(&Unwritable{Socket: s, Pending: pb})
	} else {
		s.notify(&Writable{Socket: s, Pending: pb})
	}
}

// resetAct empties the writer's queue, keeping its storage.
func (s *Socket) resetAct() {
	for i := range s.act {
		s.act[i].clear()
	}
	s.act, s.head = s.act[:0], 0
}
