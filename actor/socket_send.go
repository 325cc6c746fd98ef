package actor

import (
	"context"
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/wsabuf"
)

// ErrIOPending is what Socket.Send returns for a send that was queued and
// will complete later (WSA_IO_PENDING). It is not a failure.
var ErrIOPending = newError("WSA_IO_PENDING", 997, 0, "send queued; its completion follows")

// Send submits m from any goroutine or actor. It returns ErrIOPending when
// the send is queued (its completion follows, exactly once), or the error
// that refused it (nothing was sent). A refused send is completed too, at
// once, so that every send gets exactly one completion: its Overlapped is
// completed and its ReplyTo gets a Completion with the error.
//
// Send never blocks. See the Send type for buffer ownership.
func (s *Socket) Send(m *Send) error {
	return s.submit(m, nil)
}

// SendFrom is Send for the socket's own handler, called with the Context of
// its Receive: when nothing is queued ahead, the bytes are written at once
// and SendFrom returns their count with a nil error (the completion is still
// delivered if one was asked for). Otherwise it behaves like Send. Called with
// any other context, it is Send.
func (s *Socket) SendFrom(ctx protoactor.Context, m *Send) (int, error) {
	if ctx == nil || !s.inRun.Load() || !samePID(ctx.Self(), s.pid) {
		return 0, s.submit(m, nil)
	}
	return s.sendNow(m)
}

// samePID compares PIDs by pointer first: an actor's context hands back the
// PID its spawn returned, so the string comparison is rarely needed.
func samePID(a, b *protoactor.PID) bool { return a == b || a.Equal(b) }

// validate checks a send against the socket before anything is queued.
func (s *Socket) validate(m *Send) error {
	if !s.sys.Running() {
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
		if m.Flags&MsgPartial == 0 && s.hot.maxMsgSize > 0 && m.Buffers.Len() > s.hot.maxMsgSize {
			return ErrMsgSize
		}
	} else if m.Flags&MsgPartial != 0 {
		return ErrOpNotSupported
	}
	if err := holdErr(m.Hold); err != nil {
		return &OpError{Op: "wsasend", Kind: ErrFault, Err: err}
	}
	return nil
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

// submit validates m, captures it and queues it. Every path completes m
// exactly once: here when it is refused, later by the writer otherwise.
func (s *Socket) submit(m *Send, sender *protoactor.PID) error {
	return s.submitOp(m, replyTarget(m, sender), false)
}

// submitOp is submit; try marks a TrySend, which never waits.
func (s *Socket) submitOp(m *Send, replyTo *protoactor.PID, try bool) error {
	op, err := s.accept(m, replyTo)
	if err != nil {
		return err
	}
	op.try = try
	if err := s.enqueue(&op); err != nil {
		s.sys.complete(s.pid, &op, 0, err)
		return err
	}
	s.schedule()
	return ErrIOPending
}

// accept starts the op of m and validates it; a refused send is completed
// here, at once.
func (s *Socket) accept(m *Send, replyTo *protoactor.PID) (sendOp, error) {
	op, err := newOp(m, replyTo)
	if err == nil {
		err = s.validate(m)
	}
	if err != nil {
		s.sys.complete(s.pid, &op, 0, err)
		return op, err
	}
	op.setBuffers(m.Buffers)
	return op, nil
}

// enqueue appends op to the submit queue, within the socket's limits.
func (s *Socket) enqueue(op *sendOp) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.admit(op.size); err != nil {
		return err
	}
	s.in = append(s.in, *op)
	s.sends.Inc()
	if op.try {
		s.ctrls.Inc() // a TrySend is answered even while the writer waits
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
	case s.pendingSends.Load() >= s.hot.maxPendingSends:
		return ErrWouldBlock
	}
	if pb := s.pendingBytes.Load(); pb > 0 && pb+int64(size) > s.hot.maxPendingBytes {
		return ErrWouldBlock
	}
	s.pendingSends.Inc()
	s.pendingBytes.Add(int64(size))
	return nil
}

// enqueueControl appends a control operation (shutdown, close, flush, ...)
// to the submit queue. refuse, when non-nil, makes later sends fail with it.
func (s *Socket) enqueueControl(op sendOp, refuse *Error) error {
	return s.enqueueControlWith(op, refuse, nil)
}

// enqueueControlWith is enqueueControl that also records the linger timer
// of a graceful close, under the same lock.
func (s *Socket) enqueueControlWith(op sendOp, refuse *Error, linger *time.Timer) error {
	s.mu.Lock()
	if s.refused != nil {
		err := s.refused
		s.mu.Unlock()
		return err
	}
	if s.unbound() {
		s.controlUnbound(op, linger)
		s.mu.Unlock()
		return nil
	}
	if refuse != nil {
		s.refused = refuse
	}
	if linger != nil {
		s.linger = linger
	}
	if op.kind == opShutdown {
		s.shut = true
	}
	s.in = append(s.in, op)
	s.sends.Inc()
	s.ctrls.Inc()
	s.mu.Unlock()
	s.schedule()
	return nil
}

// sendNow is SendFrom's immediate path, on the loop inside the handler.
func (s *Socket) sendNow(m *Send) (int, error) {
	op, err := s.accept(m, m.ReplyTo)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	err = s.admit(op.size)
	direct := err == nil && len(s.in) == 0 && s.head == len(s.act) && !s.waitWritable && !s.closedOnce.Load() &&
		op.flags&MsgPartial == 0
	if err == nil && !direct {
		s.in = append(s.in, op)
		s.sends.Inc()
	}
	s.mu.Unlock()
	switch {
	case err != nil:
		s.sys.complete(s.pid, &op, 0, err)
		return 0, err
	case !direct:
		return 0, ErrIOPending // flushed when the handler returns
	}
	// Nothing is ahead of this send: write it now, and queue what is left.
	// SendFrom is synchronous, so one result slot per socket serves it.
	s.direct = directResult{}
	op.direct = true
	if s.hot.datagram || op.flags != 0 {
		s.act = append(s.act, op)
		s.writeQueued()
	} else {
		// A plain stream send is written straight from the caller's
		// segments; only a remainder joins the writer's queue.
		wv, total := op.appendUnsent(s.wv[:0], wsabuf.MaxIOV)
		var n int
		var werr error
		if total > 0 {
			n, werr = s.writev(wv)
		}
		clear(wv)
		s.wv = wv[:0]
		if werr == nil && n == op.size {
			s.sendNowWritten(&op, n)
			s.written(&op)
			if !s.direct.done {
				return 0, ErrIOPending // behind a send awaiting acknowledgement
			}
			return s.direct.n, s.direct.err
		}
		op.sent = n
		s.streamPos += int64(n)
		s.act = append(s.act, op)
		s.afterWrite(n, total, werr)
		if !s.waitWritable && !s.closedOnce.Load() {
			s.writeQueued()
		}
	}
	if !s.direct.done {
		s.act[len(s.act)-1].direct = false // left queued: it completes later
		return 0, ErrIOPending
	}
	if s.head == len(s.act) {
		s.resetAct()
	}
	return s.direct.n, s.direct.err
}

// TrySend is the non-blocking send of a non-overlapped socket: it writes what
// the socket takes now, if no earlier send is queued, and returns the count.
// A short count comes with ErrWouldBlock; the unsent rest is the caller's
// again. It waits for the event loop to make the attempt, so call it from a
// goroutine, not from the socket's handler (use SendFrom there).
func (s *Socket) TrySend(bufs wsabuf.Buffers, flags Flags) (int, error) {
	var ov Overlapped
	if err := s.submitOp(&Send{Buffers: bufs, Flags: flags, Overlapped: &ov}, nil, true); err != ErrIOPending {
		return 0, err
	}
	<-ov.Done()
	n, err, _ := ov.Result()
	return n, err
}

// SendBlocking is the blocking send of a non-overlapped socket: it returns
// once the kernel has taken every byte, or fails. It gives up after the
// socket's SendTimeout with ErrTimedOut, or when ctx ends with
// ErrInterrupted: a send that had not started is withdrawn (nothing sent); one
// that had started leaves the stream indeterminate, so the connection is
// reset, as Winsock documents for SO_SNDTIMEO. Either way the bytes are the
// caller's again when SendBlocking returns. Only one blocking send may run on
// a socket at a time; a second fails with ErrInProgress.
func (s *Socket) SendBlocking(ctx context.Context, bufs wsabuf.Buffers, flags Flags) (int, error) {
	if !s.blocking.CompareAndSwap(false, true) {
		return 0, ErrInProgress
	}
	defer s.blocking.Store(false)
	ov := new(Overlapped)
	if err := s.Send(&Send{Buffers: bufs, Flags: flags, Overlapped: ov}); err != ErrIOPending {
		return 0, err
	}
	var timeout <-chan time.Time
	if s.opts.SendTimeout > 0 {
		t := time.NewTimer(s.opts.SendTimeout)
		defer t.Stop()
		timeout = t.C
	}
	var cause error
	select {
	case <-ov.Done():
		n, err, _ := ov.Result()
		return n, err
	case <-timeout:
		cause = ErrTimedOut
	case <-ctx.Done():
		cause = &OpError{Op: "wsasend", Kind: ErrInterrupted, Err: ctx.Err()}
	}
	// Withdraw the send; its completion (now or from whatever came first)
	// is the answer, and it always comes: the writer or the close handles it.
	_ = s.enqueueControl(sendOp{kind: opCancel, ov: ov, cause: cause}, nil)
	<-ov.Done()
	n, err, _ := ov.Result()
	return n, err
}
