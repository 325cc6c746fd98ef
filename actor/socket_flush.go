package actor

import (
	"errors"
	"io"
	"syscall"
	"time"

	"github.com/overlapio/overlap/wsabuf"
)

// The writer: runs on the connection's event loop only. It takes the
// submitted operations, gathers consecutive sends into one writev of up to
// wsabuf.MaxIOV segments, completes each send with its own byte count, and
// waits for writability after a partial write.

// take moves submitted operations to the writer's queue, acting at once on
// the ones that act on the queue itself (flush, abort, cancel, try).
// flush calls it only when s.sends says something was submitted.
func (s *Socket) take() {
	s.mu.Lock()
	in := s.in
	if len(in) == 0 {
		s.mu.Unlock()
		return
	}
	plain := s.ctrls.Load() == 0 // only sends, no TrySend: nothing acts on the queue
	if plain && s.head == len(s.act) && !s.closedOnce.Load() {
		// The common case: the writer's queue is empty, so the submitted
		// operations become it, with no copy.
		s.in, s.act, s.head = s.act[:0], in, 0
		s.sends.Store(0)
		s.mu.Unlock()
		return
	}
	s.in = s.spare[:0]
	s.sends.Store(0)
	s.ctrls.Store(0)
	s.mu.Unlock()

	for i := range in {
		op := &in[i]
		switch op.kind {
		case opFlush:
			s.flushQueue()
		case opAbort:
			s.abortAll(ErrOperationAborted, nil)
			s.closeConn(true)
		case opCancel:
			s.cancel(op.ov, op.cause)
		default:
			switch {
			case s.closedOnce.Load():
				s.completeOp(op, op.sent, s.closedErr())
			case op.try && (s.head < len(s.act) || s.waitWritable):
				s.completeOp(op, 0, ErrWouldBlock)
			default:
				s.act = append(s.act, *op)
			}
		}
		op.clear()
	}
	s.spare = in[:0]
}

// sendNowWritten records the stream position of SendFrom's direct write.
func (s *Socket) sendNowWritten(op *sendOp, n int) {
	s.streamPos += int64(n)
	op.end = s.streamPos
}

// sendNowQueue is sendNow for a send that cannot be written at once: it
// is refused (err) or queued behind what is ahead of it. s.mu is held; it
// is released here.
func (s *Socket) sendNowQueue(op *sendOp, err error) (int, error) {
	if err == nil {
		s.keepLent(op)
		s.pushLocked(op)
	}
	s.mu.Unlock()
	if err != nil {
		s.cfg.sys.complete(s.pid, op, 0, err)
		return 0, err
	}
	return 0, ErrIOPending // flushed when the handler returns
}

// sendNowQueued is sendNow's write of a datagram, or of a send with flags
// or a file region: through the writer's queue, at once.
func (s *Socket) sendNowQueued(op *sendOp) (int, error) {
	s.keepLent(op)
	s.act = append(s.act, *op)
	s.writeQueued()
	return s.sendNowLeft()
}

// sendNowLong is sendNow's write of a stream send with more segments than
// one writev takes.
func (s *Socket) sendNowLong(op *sendOp) (int, error) {
	wv, total := op.appendUnsent(s.wv[:0], wsabuf.MaxIOV)
	var n int
	var werr error
	if total > 0 {
		n, werr = s.writev(wv)
	}
	clear(wv)
	s.wv = wv[:0]
	if werr == nil && n == op.size {
		return s.sendNowDone(op, n)
	}
	return s.sendNowRest(op, n, total, werr)
}

// sendNowRest queues what a direct write of total bytes of op left
// unwritten (it wrote n, or failed with err).
func (s *Socket) sendNowRest(op *sendOp, n, total int, err error) (int, error) {
	op.sent = n
	s.streamPos += int64(n)
	s.keepLent(op)
	s.act = append(s.act, *op)
	s.afterWrite(n, total, err)
	if !s.waitWritable && !s.closedOnce.Load() {
		s.writeQueued()
	}
	return s.sendNowLeft()
}

// sendNowLeft is SendFrom's result for a send that went to the writer's
// queue: its outcome if the writer finished it, else ErrIOPending.
func (s *Socket) sendNowLeft() (int, error) {
	if !s.directDone {
		s.act[len(s.act)-1].direct = false // left queued: it completes later
		return 0, ErrIOPending
	}
	if s.head == len(s.act) {
		s.resetAct()
	}
	return s.direct.n, s.direct.err
}

// writeQueued is flush's loop over the writer's queue.
func (s *Socket) writeQueued() {
	for s.head < len(s.act) && !s.waitWritable && !s.closedOnce.Load() {
		op := &s.act[s.head]
		switch op.kind {
		case opShutdown:
			err := s.conn.ShutdownWrite()
			s.head++
			if err != nil {
				s.fail(wrapOS("shutdown", err))
			}
		case opClose:
			if s.acksPending() {
				return // close once the confirmed sends are acknowledged
			}
			s.head++
			s.closeConn(false)
		case opData:
			switch {
			case s.hot.datagram:
				if !s.writeDatagram() {
					return // the message's last piece has not come yet
				}
			case op.alone():
				s.writeOne(op)
			default:
				s.writeGather()
			}
		}
	}
}

// writeGather writes consecutive plain sends with one writev and completes
// the ones it finished.
func (s *Socket) writeGather() {
	wv, total := s.wv[:0], 0
	for i := s.head; i < len(s.act) && len(wv) < wsabuf.MaxIOV; i++ {
		op := &s.act[i]
		if op.kind != opData || op.alone() {
			break
		}
		var n int
		wv, n = op.appendUnsent(wv, wsabuf.MaxIOV)
		total += n
	}
	n, err := 0, error(nil)
	if total > 0 {
		n, err = s.writev(wv)
	}
	clear(wv)
	s.wv = wv[:0]
	s.advance(n)
	s.afterWrite(n, total, err)
}

// writeOne writes a send that is alone (sendOp.alone): its segments here,
// then its file region, if any, by writeFile.
func (s *Socket) writeOne(op *sendOp) {
	if op.file != nil && op.sent >= op.fileStart() {
		s.writeFile(op)
		return
	}
	wv, total := op.appendUnsent(s.wv[:0], wsabuf.MaxIOV)
	flags := op.flags & (MsgOOB | MsgDontRoute)
	if flags&MsgOOB != 0 && op.size-op.sent > 1 {
		// TCP marks the last byte of each MSG_OOB call urgent, and the
		// peer takes that byte out of the stream: send all but the last
		// byte as normal data, so the send stays contiguous, and the last
		// byte alone as urgent data on the next pass.
		flags &^= MsgOOB
		if total == op.size-op.sent { // the window holds the last byte: hold it back
			wv, total = trimLast(wv), total-1
		}
	}
	var n int
	var err error
	if total > 0 {
		if flags != 0 {
			n, err = s.conn.SendMsg(wv, flags)
		} else {
			n, err = s.writev(wv)
		}
		if n < 0 {
			n = 0
		}
	}
	clear(wv)
	s.wv = wv[:0]
	if op.try {
		op.sent += n
		s.head++
		switch {
		case err != nil && !errors.Is(err, syscall.EAGAIN):
			s.completeOp(op, op.sent, wrapOS("wsasend", err))
			s.fail(wrapOS("wsasend", err))
		case op.sent < op.size:
			s.completeOp(op, op.sent, ErrWouldBlock)
		default:
			s.completeOp(op, op.sent, nil)
		}
		return
	}
	s.advance(n)
	s.afterWrite(n, total, err)
}

// maxSendFile is the most one sendfile call is asked for: Linux's own cap.
const maxSendFile = 0x7ffff000

// maxMergedFile bounds how far writeFile extends a call over the regions
// behind the head: the kernel takes about a socket buffer's worth per call
// anyway (Go's own sendfile loop asks for 4 MiB at a time). The scan of the
// queue stops after wsabuf.MaxIOV sends too, as a writev's does, so that
// tiny regions do not make every call walk a long queue.
const maxMergedFile = 4 << 20

// writeFile sends what is left of op's file region with sendfile, once its
// segments are written. The regions of the sends queued right behind it
// that carry on from it in the same file, with nothing of their own before
// them (no buffers, no flags), go in the same call: a body sent as many
// regions (fileserve's, each region's completion a sign of progress) takes
// a call per socket buffer's worth, not per region. advance completes each
// send, in order, as its bytes go.
//
// op is the head of the queue (s.act[s.head]), the only send that may be
// partly written; the ones behind it have sent nothing.
func (s *Socket) writeFile(op *sendOp) {
	done := op.sent - op.fileStart()
	want := int(op.file.Length) - done // > 0: a finished region's send is complete
	end := op.file.Offset + op.file.Length
	last := min(len(s.act), s.head+1+wsabuf.MaxIOV)
	for i := s.head + 1; i < last && want < maxMergedFile; i++ {
		next := &s.act[i]
		// (A send with a region has no flags and is no TrySend: see
		// validateFile.)
		if next.kind != opData || next.file == nil || next.fileStart() != 0 ||
			next.file.File != op.file.File || next.file.Offset != end {
			break
		}
		want += int(next.file.Length)
		end += next.file.Length
	}
	want = min(want, maxSendFile)
	n, err := s.conn.SendFile(op.file.File, op.file.Offset+int64(done), want)
	if n == 0 && err == nil {
		// The file ends before its region: the stream would have a hole.
		s.fail(&OpError{Op: "transmitfile", Kind: ErrConnAborted, Err: io.ErrUnexpectedEOF})
		return
	}
	s.advance(n)
	if err != nil {
		s.afterWrite(n, want, err)
	}
	// A short count with no error (the socket buffer filled, or the file
	// ended): writeQueued calls again at once, and EAGAIN (wait for
	// Writable) or 0 (the file's end, above) decides, as Go's own sendfile
	// loop does.
}

// trimLast drops the last byte of a gather list (whose segments are not
// empty).
func trimLast(wv [][]byte) [][]byte {
	last := len(wv) - 1
	if len(wv[last]) == 1 {
		return wv[:last]
	}
	wv[last] = wv[last][:len(wv[last])-1]
	return wv
}

// writeDatagram sends the message at the head of the queue: one send, or
// the MsgPartial pieces up to and including the first send without the flag,
// as one datagram. It reports false, having done nothing, while the
// message's last piece has not been submitted; flush runs again when it is.
func (s *Socket) writeDatagram() bool {
	end, total := s.head, 0
	for ; end < len(s.act); end++ {
		op := &s.act[end]
		if op.kind != opData {
			// A close or shutdown came before the message's last piece: the
			// message can never be sent whole. Abort its pieces; the
			// control operation runs next.
			for i := s.head; i < end; i++ {
				s.completeOp(&s.act[i], 0, ErrOperationAborted)
			}
			s.head = end
			return true
		}
		total += op.size
		if op.flags&MsgPartial == 0 {
			break
		}
	}
	if end == len(s.act) {
		return false
	}
	var err error
	if s.hot.maxMsgSize > 0 && total > int(s.hot.maxMsgSize) {
		err = ErrMsgSize
	} else {
		wv := s.wv[:0]
		for i := s.head; i <= end; i++ {
			wv, _ = s.act[i].appendUnsent(wv, 1<<30)
		}
		if len(wv) > wsabuf.MaxIOV {
			err = ErrMsgSize
		} else {
			var n int
			n, err = s.conn.SendMsg(wv, s.act[end].flags&MsgDontRoute)
			if errors.Is(err, syscall.EAGAIN) {
				clear(wv)
				s.wv = wv[:0]
				if !s.act[end].try {
					s.awaitWritable()
					return true
				}
				err = ErrWouldBlock // a TrySend never waits: nothing was sent
			}
			if err == nil && n != total {
				err = ErrMsgSize // a datagram goes whole or not at all
			}
			if err != nil && err != ErrWouldBlock {
				err = wrapOS("wsasend", err)
			}
		}
		clear(wv)
		s.wv = wv[:0]
	}
	for i := s.head; i <= end; i++ {
		op := &s.act[i]
		if err != nil {
			s.completeOp(op, 0, err)
		} else {
			s.completeOp(op, op.size, nil)
		}
	}
	s.head = end + 1
	if err != nil && !errors.Is(err, ErrMsgSize) && err != ErrWouldBlock {
		s.fail(err)
	}
	return true
}

// advance completes the sends the last write finished and records partial
// progress on the next one.
func (s *Socket) advance(n int) {
	pos := s.streamPos
	s.streamPos += int64(n)
	for s.head < len(s.act) {
		op := &s.act[s.head]
		if op.kind != opData {
			return
		}
		rest := op.size - op.sent
		if n < rest {
			if n == 0 && rest > 0 {
				return
			}
			op.sent += n
			return
		}
		n -= rest
		pos += int64(rest)
		op.sent = op.size
		op.end = pos
		s.head++
		s.written(op)
		if n == 0 {
			// Zero-byte sends right behind complete in order too.
			for s.head < len(s.act) && s.act[s.head].kind == opData && s.act[s.head].size == 0 {
				s.act[s.head].end = pos
				s.written(&s.act[s.head])
				s.head++
			}
			return
		}
	}
}

// ackPollInterval is how often a socket with sends awaiting acknowledgement
// asks the kernel how far the peer has acknowledged.
const ackPollInterval = time.Millisecond

func (s *Socket) armAckPoll() {
	if s.ackArmed {
		return
	}
	s.ackArmed = true
	c := s.coldState()
	if c.ackTimer == nil {
		// Made on first use: only sockets that send with MsgConfirm pay
		// for the timer and its task.
		task := s.checkAcks
		c.ackTimer = time.AfterFunc(ackPollInterval, func() {
			if s.conn.Post(task) != nil {
				s.cfg.sys.Logger.Debug("overlap: ack poll after the loop stopped", "socket", s.pid.Id)
			}
		})
		return
	}
	c.ackTimer.Reset(ackPollInterval)
}

// checkAcks completes, in order, the sends whose bytes the peer has
// acknowledged. Loop only.
func (s *Socket) checkAcks() {
	s.ackArmed = false
	if s.closedOnce.Load() || !s.acksPending() {
		return
	}
	c := s.cold
	outq, err := s.conn.Unacked()
	if err != nil {
		s.fail(wrapOS("wsasend", err))
		return
	}
	acked := s.streamPos - int64(outq)
	i := 0
	for ; i < len(c.acks); i++ {
		a := &c.acks[i]
		if a.flags&MsgConfirm != 0 && a.end > acked {
			break
		}
		s.completeOp(a, a.size, nil)
	}
	rest := copy(c.acks, c.acks[i:])
	for j := rest; j < len(c.acks); j++ {
		c.acks[j].clear()
	}
	c.acks = c.acks[:rest]
	if rest > 0 {
		s.armAckPoll()
	}
	// Deliver the completions, and go on with a graceful close that waited
	// for the acknowledgements.
	s.runInline()
}

// afterWrite handles the outcome of a write of total bytes that took n.
func (s *Socket) afterWrite(n, total int, err error) {
	switch {
	case err == nil && n >= total:
	case err == nil || errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR):
		s.awaitWritable()
	default:
		s.fail(wrapOS("wsasend", err))
	}
}

// awaitWritable parks the writer until the transport reports Writable.
func (s *Socket) awaitWritable() {
	s.waitWritable = true
	if err := s.conn.AwaitWritable(); err != nil {
		s.waitWritable = false
		s.fail(wrapOS("wsasend", err))
	}
}

func (s *Socket) notify(msg any) {
	if to := s.cfg.opts.WatermarkTo; to != nil && !to.Equal(s.pid) {
		s.cfg.sys.Actors.Root.Send(to, msg)
		return
	}
	if !s.stopped.Load() {
		s.postUser(msg)
	}
}
