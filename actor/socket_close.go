package actor

import (
	"time"
)

// Shutdown half-closes the socket for sending (shutdown SD_SEND) after every
// send submitted before it; later sends fail with ErrShutdown and nothing is
// sent. Datagram sockets are not half-closed, but refuse later sends the same
// way.
func (s *Socket) Shutdown() error {
	if !s.cfg.sys.Running() {
		return ErrNotInitialised
	}
	return s.enqueueControl(sendOp{kind: opShutdown}, nil)
}

// Close closes the socket gracefully: every send submitted before it is
// handed to the kernel, then the connection is closed, and the handler gets
// Closed. Sends submitted after Close fail with ErrNotSock. If the sends
// cannot be written within the Linger time (a peer that stopped reading),
// the rest complete with ErrOperationAborted and the connection is reset.
func (s *Socket) Close() error {
	if !s.cfg.sys.Running() {
		return ErrNotInitialised
	}
	// The timer is the linger bound. It is stored with the close operation,
	// under the same lock, so the loop's Closed always finds and stops it.
	t := time.AfterFunc(s.cfg.opts.Linger, func() { _ = s.conn.Post(s.lingerExpired) })
	err := s.enqueueControlWith(sendOp{kind: opClose}, ErrNotSock, t)
	if err != nil {
		t.Stop()
	}
	return err
}

// Abort closes the socket at once (an abortive close): pending sends complete
// with ErrOperationAborted and the bytes they did send, unsent bytes are
// discarded and the connection is reset.
func (s *Socket) Abort() error {
	if !s.cfg.sys.Running() {
		return ErrNotInitialised
	}
	return s.enqueueControl(sendOp{kind: opAbort}, ErrNotSock)
}

// unbound reports a socket with no event loop and no peer (a UDP
// listener's): it never writes, so it closes without the writer.
func (s *Socket) unbound() bool { return s.hot.datagram && !s.hot.connected }

// controlUnbound carries out a control operation on an unbound socket at
// once, since it has no writer to queue it for (and nothing to write):
// Close and Abort deliver Closed (later datagrams are dropped), Shutdown
// refuses later sends, Flush has nothing to abort. s.mu is held.
func (s *Socket) controlUnbound(op sendOp, linger *time.Timer) {
	if linger != nil {
		linger.Stop()
	}
	switch op.kind {
	case opShutdown:
		s.shut = true
	case opClose, opAbort:
		s.mu.Unlock()
		(*Endpoint)(s).Closed(nil)
		s.mu.Lock()
	}
}

// Flush aborts the sends submitted before it that have not started (the
// SIO_FLUSH ioctl): they complete with ErrOperationAborted and 0 bytes. A
// send already partly written goes on, so the stream stays whole.
func (s *Socket) Flush() error {
	if !s.cfg.sys.Running() {
		return ErrNotInitialised
	}
	return s.enqueueControl(sendOp{kind: opFlush}, nil)
}

// flushQueue is Flush on the writer's side.
func (s *Socket) flushQueue() {
	keep := s.head
	for i := s.head; i < len(s.act); i++ {
		op := &s.act[i]
		if op.kind == opData && op.sent == 0 { // not started
			s.completeOp(op, 0, ErrOperationAborted)
			op.clear()
			continue
		}
		s.act[keep] = *op
		keep++
	}
	for i := keep; i < len(s.act); i++ {
		s.act[i].clear()
	}
	s.act = s.act[:keep]
}

// cancel withdraws the blocking send whose Overlapped is ov: unstarted, it is
// removed; started, the connection is reset (the stream is indeterminate).
func (s *Socket) cancel(ov *Overlapped, cause error) {
	for i := s.head; i < len(s.act); i++ {
		op := &s.act[i]
		if op.ov != ov {
			continue
		}
		started := op.sent > 0
		s.completeOp(op, op.sent, cause)
		copy(s.act[i:], s.act[i+1:])
		s.act[len(s.act)-1].clear()
		s.act = s.act[:len(s.act)-1]
		if started {
			// Part of it is on the wire: the stream is indeterminate.
			s.abortAll(ErrOperationAborted, nil)
			s.closeConn(true)
		}
		return
	}
	// Written whole and waiting for an acknowledgement (MsgConfirm), or
	// behind one: it completes now with the cause; its bytes are sent.
	c := s.cold
	if c == nil {
		return
	}
	for i := range c.acks {
		if c.acks[i].ov != ov {
			continue
		}
		s.completeOp(&c.acks[i], c.acks[i].size, cause)
		copy(c.acks[i:], c.acks[i+1:])
		c.acks[len(c.acks)-1].clear()
		c.acks = c.acks[:len(c.acks)-1]
		return
	}
	// Already completed (or never queued): nothing to withdraw.
}

// lingerExpired runs on the loop when a graceful close has waited Linger.
func (s *Socket) lingerExpired() {
	if s.closedOnce.Load() {
		return
	}
	s.abortAll(ErrOperationAborted, nil)
	s.closeConn(true)
	s.runInline() // deliver the completions
}

// fail ends the connection after a write error: every pending send completes
// with err.
func (s *Socket) fail(err error) {
	s.abortAll(err, nil)
	s.closeConn(true)
}

// closeConn closes the connection; the transport calls Endpoint.Closed,
// possibly from inside this call.
func (s *Socket) closeConn(abort bool) {
	if s.closedOnce.Load() {
		return
	}
	if err := s.conn.Close(abort); err != nil {
		s.cfg.sys.Logger.Debug("overlap: close", "socket", s.pid.Id, "err", err)
	}
}

// abortAll completes every pending send, queued or partly written, with err
// (and the bytes it did send), and refuses later ones with refuse (or
// ErrNotSock).
func (s *Socket) abortAll(err error, refuse *Error) {
	if refuse == nil {
		refuse = ErrNotSock
	}
	s.mu.Lock()
	if s.refused == nil || s.refused == ErrNotSock {
		s.refused = refuse
	}
	in := s.in
	s.in = nil
	s.sends.Store(0)
	s.ctrls.Store(0)
	s.mu.Unlock()
	if c := s.cold; c != nil {
		for i := range c.acks {
			a := &c.acks[i]
			if a.flags&MsgConfirm != 0 {
				s.completeOp(a, a.size, err) // written, never confirmed
			} else {
				s.completeOp(a, a.size, nil) // written; it only waited its turn
			}
			a.clear()
		}
		c.acks = c.acks[:0]
		if c.ackTimer != nil {
			c.ackTimer.Stop()
		}
	}
	for i := s.head; i < len(s.act); i++ {
		op := &s.act[i]
		s.completeOp(op, op.sent, err)
	}
	for i := range in {
		op := &in[i]
		switch op.kind {
		case opData:
			s.completeOp(op, 0, err)
		case opCancel:
			// The cancelled send is completed above or earlier.
		}
	}
	s.resetAct()
	s.waitWritable = false
}

// closedErr is what a send that meets a closed connection completes with.
func (s *Socket) closedErr() error {
	if s.cold != nil && s.cold.closeErr != nil {
		return s.cold.closeErr
	}
	return ErrOperationAborted
}

// Closed reports that the connection is gone (err is nil for a local close).
// Pending sends complete with the matching error, the handler gets Closed,
// and the socket stops using the event loop.
func (e *Endpoint) Closed(err error) {
	s := (*Socket)(e)
	if !s.closedOnce.CompareAndSwap(false, true) {
		return // an unbound socket can be closed by its user and by its listener
	}
	var kind error = ErrOperationAborted
	if err != nil {
		kind = wrapOS("wsasend", err)
	}
	s.coldState().closeErr = kind
	s.abortAll(kind, ErrNotSock)
	s.mu.Lock()
	if s.linger != nil {
		s.linger.Stop()
	}
	stopped := s.stopped.Load()
	s.mu.Unlock()
	if !stopped {
		s.postUser(&Closed{Socket: s, Err: err})
	}
	// From now on the mailbox runs on goroutines. If a loop task is queued
	// and unclaimed, it may never run (the loop may be stopping): take it.
	s.detached.Store(true)
	if s.inRun.Load() {
		return // process is on the stack below us and will see the messages
	}
	if s.ticket.CompareAndSwap(true, false) || s.status.CompareAndSwap(mbIdle, mbRunning) {
		s.process(true)
	}
}

// actorStopped runs when the socket's actor has stopped (its owner stopped
// it, or its parent did): pending sends are cancelled with
// ErrOperationAborted and the connection is closed.
func (s *Socket) actorStopped(onLoop bool) {
	s.stopped.Store(true)
	if !onLoop {
		// Off the loop the connection is already closed (or closing, and
		// Closed will abort what is pending).
		return
	}
	s.abortAll(ErrOperationAborted, ErrNotSock)
	s.closeConn(false)
}
