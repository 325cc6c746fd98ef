package actor

import (
	protoactor "github.com/asynkron/protoactor-go/actor"
)

// socketMailbox is the socket seen as its actor's protoactor mailbox. It
// intercepts the socket's own messages (Send, Shutdown, Close, Flush) as they
// are posted, in the sender's goroutine, so a Send's buffer array is captured
// before the sender can reuse it; everything else is queued for the handler.
//
// The mailbox is processed on the connection's event loop: by a loop task
// (Conn.Post) when a sender finds it idle, or inline when the loop itself
// delivers received bytes. After the connection closes ("detached") it is
// processed on goroutines, like protoactor's default dispatcher.
type socketMailbox Socket

var _ protoactor.Mailbox = (*socketMailbox)(nil)

// PostUserMessage implements protoactor.Mailbox.
func (m *socketMailbox) PostUserMessage(msg any) {
	s := (*Socket)(m)
	inner, sender := msg, (*protoactor.PID)(nil)
	if env, ok := msg.(*protoactor.MessageEnvelope); ok {
		inner, sender = env.Message, env.Sender
	}
	switch v := inner.(type) {
	case *Send:
		_ = s.submit(v, sender)
		return
	case *Shutdown:
		_ = s.Shutdown()
		return
	case *Close:
		if v.Abort {
			_ = s.Abort()
		} else {
			_ = s.Close()
		}
		return
	case *Flush:
		_ = s.Flush()
		return
	}
	s.postUser(msg)
	s.schedule()
}

// PostSystemMessage implements protoactor.Mailbox.
func (m *socketMailbox) PostSystemMessage(msg any) {
	s := (*Socket)(m)
	s.mu.Lock()
	s.sysq = append(s.sysq, msg)
	s.sysMsgs.Add(1)
	s.mu.Unlock()
	s.schedule()
}

// RegisterHandlers implements protoactor.Mailbox. The dispatcher is ignored:
// the socket's mailbox always runs on its event loop.
func (m *socketMailbox) RegisterHandlers(invoker protoactor.MessageInvoker, _ protoactor.Dispatcher) {
	m.invoker = invoker
	if ctx, ok := invoker.(protoactor.Context); ok && m.hot.plainReceive {
		m.receiver = ctx
	}
}

// Start implements protoactor.Mailbox.
func (m *socketMailbox) Start() {}

// UserMessageCount implements protoactor.Mailbox.
func (m *socketMailbox) UserMessageCount() int {
	s := (*Socket)(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userq.len()
}

// postUser queues a message for the handler without scheduling. Once the
// actor has stopped, messages are dropped (see discard).
func (s *Socket) postUser(msg any) {
	if s.stopped.Load() {
		discard(msg)
		return
	}
	s.mu.Lock()
	s.userq.push(msg)
	s.userMsgs.Add(1)
	s.mu.Unlock()
}

// discard drops a message no actor will see, releasing what it holds.
func discard(msg any) {
	if r, ok := msg.(*Received); ok && r.Data != nil {
		r.Data.Release()
	}
}

// schedule makes sure someone processes the mailbox. The load before the
// CAS keeps the status line shared while the mailbox runs: with many
// senders, most find it running, and a failed CAS would still take the line
// from the loop. Either this load sees the mailbox idle, or the runner's
// check after it stores idle (process, hasWork) sees what we queued.
func (s *Socket) schedule() {
	if s.holding.Load() || s.status.Load() != mbIdle || !s.status.CompareAndSwap(mbIdle, mbRunning) {
		return
	}
	s.dispatch()
}

// dispatch hands the running mailbox to the event loop (or, once the loop is
// gone, to a goroutine). The caller holds status == mbRunning.
func (s *Socket) dispatch() {
	if s.detached.Load() {
		go s.process(false)
		return
	}
	s.ticket.Store(true)
	err := s.conn.Post(s.loopTask)
	if (err != nil || s.detached.Load()) && s.ticket.CompareAndSwap(true, false) {
		// The loop will not run the task (or the connection closed while we
		// posted and nobody took it over): process here, off the loop.
		go s.process(false)
	}
}

// runLoopTask is the loop task posted by dispatch.
func (s *Socket) runLoopTask() {
	if s.ticket.CompareAndSwap(true, false) {
		s.process(true)
	}
}

// runInline processes the mailbox now, on the loop, if nobody else is: the
// "inline when idle" path that makes a read cost no cross-thread wake-up.
func (s *Socket) runInline() {
	if s.status.CompareAndSwap(mbIdle, mbRunning) || s.ticket.CompareAndSwap(true, false) {
		s.process(true)
	}
}

func (s *Socket) invokeSystem(msg any, onLoop bool) {
	switch msg.(type) {
	case *protoactor.SuspendMailbox:
		s.suspended.Store(true)
		return
	case *protoactor.ResumeMailbox:
		s.suspended.Store(false)
		return
	}
	s.invokeSystemMessage(msg)
	switch msg.(type) {
	case *protoactor.Stop, *protoactor.Terminated:
		if _, alive := s.cfg.sys.Actors.ProcessRegistry.GetLocal(s.pid.Id); !alive && !s.stopped.Load() {
			s.actorStopped(onLoop)
		}
	}
}

func (s *Socket) invokeSystemMessage(msg any) {
	done := false
	defer func() {
		if _, ok := msg.(*protoactor.Restart); ok {
			s.restarting = true
		}
		if s.restarting && (s.receiver == nil || len(s.receiver.Children()) == 0) {
			// The restart has run, here or (protoactor waits for the
			// children to stop) on the last child's Terminated: a new
			// actor, and its receive timeout cancelled on this goroutine,
			// so no timer can be writing it as noteReceiveTimeout reads.
			s.restarting, s.handler, s.timeoutSet = false, nil, false
		}
		// Started and continuations run the handler, which may set a
		// receive timeout on protoactor's context.
		s.noteReceiveTimeout()
		if !done {
			s.escalate(recover(), msg)
		}
	}()
	s.invoker.InvokeSystemMessage(msg)
	done = true
}

// Endpoint is the transport's side of a socket: the calls an event loop makes
// when the connection opens, has bytes, can take more, or closes. Every
// method must be called on the connection's event loop.
type Endpoint Socket

// Socket returns the handle of the endpoint's socket.
func (e *Endpoint) Socket() *Socket { return (*Socket)(e) }

// Start delivers Started and Connected to the handler and opens the socket
// for processing.
func (e *Endpoint) Start() {
	s := (*Socket)(e)
	s.postUser(&Connected{Socket: s})
	s.holding.Store(false)
	s.runInline()
}

// StartUnbound is Start for a socket that has no event loop of its own (an
// unconnected datagram socket, which never writes): its mailbox runs on
// goroutines, and Received may be called from any one goroutine.
func (e *Endpoint) StartUnbound() {
	s := (*Socket)(e)
	s.detached.Store(true)
	s.postUser(&Connected{Socket: s})
	s.holding.Store(false)
	s.schedule()
}

// Writable reports that the connection can take more bytes after a partial
// write (see Conn.AwaitWritable).
func (e *Endpoint) Writable() {
	s := (*Socket)(e)
	s.waitWritable = false
	s.runInline()
}

// msgQueue is a FIFO of messages, a ring that grows as needed.
type msgQueue struct {
	buf        []any
	head, size int32 // a socket's queue never nears 2^31 messages
}

func (q *msgQueue) len() int { return int(q.size) }

func (q *msgQueue) push(m any) {
	if int(q.size) == len(q.buf) {
		n := 2 * len(q.buf)
		if n == 0 {
			n = 1 // an idle socket keeps this, from its Connected
		}
		nb := make([]any, n)
		for i := 0; i < int(q.size); i++ {
			nb[i] = q.buf[(int(q.head)+i)%len(q.buf)]
		}
		q.buf, q.head = nb, 0
	}
	q.buf[int(q.head+q.size)%len(q.buf)] = m
	q.size++
}

func (q *msgQueue) pop() (any, bool) {
	if q.size == 0 {
		return nil, false
	}
	m := q.buf[q.head]
	q.buf[q.head] = nil
	q.head = int32((int(q.head) + 1) % len(q.buf))
	q.size--
	return m, true
}
