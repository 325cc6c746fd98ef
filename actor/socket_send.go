package actor

import (
	"context"
	"math"
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

// samePID compares PIDs by pointer first: an actor's context hands back the
// PID its spawn returned, so the string comparison is rarely needed.
func samePID(a, b *protoactor.PID) bool { return a == b || a.Equal(b) }

// submit validates m, captures it and queues it. Every path completes m
// exactly once: here when it is refused, later by the writer otherwise.
func (s *Socket) submit(m *Send, sender *protoactor.PID) error {
	return s.submitOp(m, replyTarget(m, sender), false)
}

// submitOp is submit; try marks a TrySend, which never waits.
func (s *Socket) submitOp(m *Send, replyTo *protoactor.PID, try bool) error {
	var op sendOp
	if err := s.accept(&op, m, replyTo); err != nil {
		return err
	}
	op.try = try
	if err := s.enqueue(&op); err != nil {
		s.cfg.sys.complete(s.pid, &op, 0, err)
		return err
	}
	s.schedule()
	return ErrIOPending
}

// enqueue appends op to the submit queue, within the socket's limits.
func (s *Socket) enqueue(op *sendOp) error {
	ownHeld(op) // a lent Hold outlives its read from here
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.admit(op.held()); err != nil {
		return err
	}
	s.pushLocked(op)
	return nil
}

// pushLocked appends an admitted op to the submit queue. s.mu is held.
func (s *Socket) pushLocked(op *sendOp) {
	s.in = append(s.in, *op)
	s.sends.Add(1)
	if op.try {
		s.ctrls.Add(1) // a TrySend is answered even while the writer waits
	}
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
	s.sends.Add(1)
	s.ctrls.Add(1)
	s.mu.Unlock()
	s.schedule()
	return nil
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
	if s == nil {
		return 0, ErrNotSock
	}
	if !s.blocking.CompareAndSwap(false, true) {
		return 0, ErrInProgress
	}
	defer s.blocking.Store(false)
	ov := new(Overlapped)
	if err := s.Send(&Send{Buffers: bufs, Flags: flags, Overlapped: ov}); err != ErrIOPending {
		return 0, err
	}
	var timeout <-chan time.Time
	if s.cfg.opts.SendTimeout > 0 {
		t := time.NewTimer(s.cfg.opts.SendTimeout)
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

// validateFile checks a send's file region (see Send.File), the send's own
// copy of it.
func (s *Socket) validateFile(flags Flags, f *FileRegion) error {
	switch {
	case s.hot.datagram || flags != 0:
		return ErrOpNotSupported
	case f.File == nil || f.Offset < 0 || f.Length < 0 || f.Length > maxFileRegion ||
		f.Offset > math.MaxInt64-f.Length:
		return ErrInvalid
	}
	return nil
}

// maxFileRegion is the longest file region one send takes (1 TiB): its
// bytes and the buffers' stay far inside an int, the send's byte count.
const maxFileRegion = 1 << 40
