package actor

import (
	"math"
	"net"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/wsabuf"
)

// Socket is the handle of one socket actor: a connected stream or datagram
// socket whose sends are serialised by the actor's mailbox and written by the
// connection's event loop. Any goroutine or actor may use it.
//
// The socket actor is also the connection's handler: the user's actor,
// spawned from the Props given to the transport, receives Connected,
// Received, Completion, Writable, Unwritable and Closed messages, and its
// Receive runs on the connection's event loop. A handler that blocks stalls
// every connection of that loop: hand slow work to other actors.
//
// State ownership, by field group below: immutable after creation; guarded by
// mu (the submit side, shared by all senders); owned by the writer (the
// event loop, or after the connection closed the goroutine holding the
// mailbox); atomics readable anywhere.
type Socket struct {
	// The fields one echoed message touches come first, so that a socket
	// whose lines went cold while the kernel ran costs few cache misses.
	// Idle connections are many: every field here is paid for by each one,
	// so what only some sockets use lives elsewhere (socketConfig, made
	// once per listener; writerCold, made when first needed). The socket
	// and its transport's connection are one object (NewSocketWith): with
	// gnet's, 624 bytes plus the allocator's 8-byte header, inside
	// the 640-byte size class. TestIdleSocketMemory in transport guards it.

	// Scheduling: which goroutine processes the mailbox. See socket_mailbox.go.
	status     atomic.Int32 // mbIdle or mbRunning
	sysMsgs    atomic.Int32 // system messages queued
	userMsgs   atomic.Int32 // user messages queued
	sends      atomic.Int32 // len(in)
	ctrls      atomic.Int32 // control operations in in (abort, flush, cancel, ...)
	detached   atomic.Bool  // the event loop is gone; runs happen on goroutines
	inRun      atomic.Bool  // the loop is inside process (for SendFrom)
	suspended  atomic.Bool  // protoactor SuspendMailbox: user messages wait
	stopped    atomic.Bool  // the actor has stopped: user messages are dropped
	closedOnce atomic.Bool  // Endpoint.Closed has run

	// Readable anywhere: the pending sends and their bytes, in one word
	// (see packPending) so that a send costs one atomic add and its
	// completion one. They rise under mu (so the limit check and the
	// increment are one step) and fall without it.
	pending atomic.Uint64

	// Owned by the writer (the loop), hot.
	waitWritable bool
	unwritable   bool
	recvBusy     bool // recv is in use
	directDone   bool // direct holds the outcome
	shut         bool // guarded by mu (with the group below; here it fills padding): Shutdown requested, new sends fail with ErrShutdown
	head         int
	act          []sendOp // taken from in; act[head:] are unfinished
	wv           [][]byte
	streamPos    int64                    // bytes written to the connection so far
	direct       directResult             // outcome of SendFrom's immediate write
	timeoutSet   bool                     // the actor has a receive timeout: Received takes protoactor's road
	recv         Received                 // the Received of the common case, one at a time
	receiver     protoactor.Context       // the actor's own context (protoactor's), for Received's short road; nil: always InvokeUserMessage
	handler      func(protoactor.Context) // the actor's Receive, for the short road; nil until first needed and after system messages (a restart makes a new actor)
	cur          *Received                // the Received on the short road, for handlerContext
	lent         *wsabuf.Buf              // the lent Received.Data of the inline run, if any

	// Immutable after NewSocket. hot holds the connection's values the
	// send path reads; cfg is shared by the sockets of one Spawner and
	// System.
	conn Conn
	pid  *protoactor.PID
	cfg  *socketConfig
	hot  hotInfo

	// Guarded by mu.
	mu      sync.Mutex
	in      []sendOp // submitted, not yet taken by the writer
	refused *Error   // non-nil: new sends fail with it (closing or closed)
	sysq    []any
	userq   msgQueue
	linger  *time.Timer // the graceful close's bound, set with the close operation

	// Cold.
	wantPause  atomic.Int32              // 1: the handler asked to pause, 0: resume
	blocking   atomic.Bool               // a blocking send is running
	ticket     atomic.Bool               // a loop task is queued and unclaimed
	holding    atomic.Bool               // set until Start: posts only queue
	unreleased atomic.Int64              // received bytes the handler holds
	loopTask   func()                    // runLoopTask
	readTask   atomic.Pointer[func()]    // applies the read pause state on the loop; made on first use (readPoster)
	onReleased func(int)                 // Received buffers' release hook; nil without MaxUnreleasedRead
	invoker    protoactor.MessageInvoker // protoactor's road for everything but Received

	// Owned by the writer, cold.
	userPaused bool // the handler asked to pause reading
	autoPaused bool // unreleased received bytes reached MaxUnreleasedRead
	readPaused bool // reading is paused in the transport
	ackArmed   bool
	restarting bool // a Restart waits for the actor's children to stop (owned by the mailbox's runner)
	spare      []sendOp
	cold       *writerCold // nil until first needed
}

// writerCold is the writer's state that few sockets need: made on first
// use (Socket.coldState), so that idle connections do without it.
type writerCold struct {
	acks     []sendOp    // written sends whose completion waits for MsgConfirm acks
	ackTimer *time.Timer // polls the acknowledgements while acks has MsgConfirm sends
	recvFree []*Received // recycled Received messages beyond recv
	closeErr error       // what sends meeting the closed connection complete with
}

// coldState returns the writer's cold state, making it if need be. Writer
// only.
func (s *Socket) coldState() *writerCold {
	if s.cold == nil {
		s.cold = new(writerCold)
	}
	return s.cold
}

// acksPending reports whether written sends wait for acknowledgements (or
// behind one that does). Writer only.
func (s *Socket) acksPending() bool { return s.cold != nil && len(s.cold.acks) > 0 }

// hotInfo are the connection's values (from its ConnInfo) the send path
// reads, kept with the socket's hot fields.
type hotInfo struct {
	datagram, connected bool
	plainReceive        bool  // see Socket.invokeUser
	maxMsgSize          int32 // largest datagram; 0 for streams
}

// socketConfig is what the sockets of one Spawner and Options share,
// read-only: the options with their defaults, and the limits the send path
// compares, in the types it compares them in. One copy per listener rather
// than per connection: less memory for each, and lines that stay in cache.
type socketConfig struct {
	sys               *System
	opts              Options
	maxPendingSends   int64
	maxPendingBytes   int64
	maxUnreleasedRead int64
	highWatermark     int
	lowWatermark      int
	throughput        int
}

func newSocketConfig(sys *System, opts Options) *socketConfig {
	o := opts.withDefaults()
	return &socketConfig{
		sys: sys, opts: o,
		maxPendingSends: int64(o.MaxPendingSends), maxPendingBytes: int64(o.MaxPendingBytes),
		maxUnreleasedRead: int64(o.MaxUnreleasedRead),
		highWatermark:     o.HighWatermark, lowWatermark: o.LowWatermark, throughput: o.Throughput,
	}
}

const (
	mbIdle int32 = iota
	mbRunning
)

// PID returns the socket actor's PID: send it Send, Shutdown, Close and
// Flush messages, or anything the handler understands.
func (s *Socket) PID() *protoactor.PID { return s.pid }

// LocalAddr returns the socket's local address.
func (s *Socket) LocalAddr() net.Addr { return s.Info().LocalAddr }

// RemoteAddr returns the peer's address, nil for an unconnected datagram
// socket.
func (s *Socket) RemoteAddr() net.Addr { return s.Info().RemoteAddr }

// Info describes the underlying connection; the zero ConnInfo for a zero
// Socket. (The socket keeps no copy: the connection's is immutable.)
func (s *Socket) Info() ConnInfo {
	if s == nil || s.conn == nil {
		return ConnInfo{}
	}
	return s.conn.Info()
}

// MaxMsgSize reports the largest datagram a send may carry (the
// SO_MAX_MSG_SIZE query); 0 for stream sockets, which have no limit.
func (s *Socket) MaxMsgSize() int {
	if !s.hot.datagram {
		return 0
	}
	return int(s.hot.maxMsgSize)
}

// Pending reports the sends and bytes queued on the socket and not yet
// completed.
func (s *Socket) Pending() (sends, bytes int) {
	sends, bytes = unpackPending(s.pending.Load())
	return sends, bytes
}

// NewSocket spawns the socket actor for conn from props (the user's handler,
// whose mailbox and dispatcher are replaced by the socket's own) and returns
// its handle and the endpoint the transport drives. Call it on conn's event
// loop, then Endpoint.Start. A transport that spawns many sockets from the
// same Props uses a Spawner instead.
func NewSocket(sys *System, conn Conn, props *protoactor.Props, opts Options) (*Socket, *Endpoint, error) {
	if sys == nil || !sys.Running() {
		return nil, nil, ErrNotInitialised
	}
	return NewSpawner(props).NewSocket(sys, conn, opts)
}

// Spawner spawns the socket actors of one handler Props. It prepares the
// Props once, with the socket mailbox, so that every socket of a listener
// shares one Props instead of holding a copy: less memory per connection,
// and one Props that stays in cache for all of them.
type Spawner struct {
	props *protoactor.Props
	plain bool          // props has no middleware and no context decorator (see plainProps)
	mu    sync.Mutex    // held across a spawn
	next  *Socket       // guarded by mu: the socket whose actor is being spawned
	opts  Options       // guarded by mu: the Options cfg was made from
	cfg   *socketConfig // guarded by mu: the last sockets' shared config
}

// NewSpawner prepares props (left unchanged) for spawning socket actors. A
// nil props makes a Spawner whose NewSocket fails with ErrInvalid.
func NewSpawner(props *protoactor.Props) *Spawner {
	sp := &Spawner{}
	if props != nil {
		sp.props = props.Clone(protoactor.WithMailbox(sp.mailbox))
		sp.plain = plainProps(props)
	}
	return sp
}

// plainProps reports whether props has no receiver or sender middleware
// chain and no context decorator, which protoactor does not expose: they
// are read by reflection, and a Props whose layout is not the one known
// here counts as having them, so that received bytes then always go through
// InvokeUserMessage. (Sender middleware is called with protoactor's
// context, which holds no message on the short road.)
func plainProps(props *protoactor.Props) bool {
	v := reflect.ValueOf(props).Elem()
	for _, name := range []string{"receiverMiddlewareChain", "senderMiddlewareChain", "contextDecoratorChain"} {
		if f := v.FieldByName(name); !f.IsValid() || f.Kind() != reflect.Func || !f.IsNil() {
			return false
		}
	}
	return true
}

// mailbox is the prepared Props' mailbox producer: protoactor calls it
// synchronously inside the spawn, while sp.mu is held.
func (sp *Spawner) mailbox() protoactor.Mailbox {
	s := sp.next
	if s == nil {
		panic("overlap: a socket Props was spawned outside Spawner.NewSocket")
	}
	sp.next = nil
	return (*socketMailbox)(s)
}

// NewSocket is the package's NewSocket with the Spawner's Props.
func (sp *Spawner) NewSocket(sys *System, conn Conn, opts Options) (*Socket, *Endpoint, error) {
	if err := sp.check(sys); err != nil {
		return nil, nil, err
	}
	s := new(Socket)
	return s, sp.start(s, sys, conn, opts), nil
}

// NewSocketWith is NewSocket for a transport whose per-connection state is
// a struct C that implements Conn by pointer. It allocates the socket and
// the C in one object, so the event loop finds both on one page: after a
// system call a page touched first costs a page walk, and a busy server
// meets each connection's state cold. init fills in the C before the socket
// reads its Info; the C must not be copied afterwards.
func NewSocketWith[C any, PC interface {
	*C
	Conn
}](sp *Spawner, sys *System, opts Options, init func(PC)) (PC, *Socket, *Endpoint, error) {
	if err := sp.check(sys); err != nil {
		return nil, nil, nil, err
	}
	both := new(struct {
		c C // first: the transport touches it before the socket
		s Socket
	})
	conn := PC(&both.c)
	init(conn)
	return conn, &both.s, sp.start(&both.s, sys, conn, opts), nil
}

// check refuses a spawn on a stopped system or without Props.
func (sp *Spawner) check(sys *System) error {
	if sys == nil || !sys.Running() {
		return ErrNotInitialised
	}
	if sp.props == nil {
		return ErrInvalid
	}
	return nil
}

// start initialises the new socket s for conn and spawns its actor.
func (sp *Spawner) start(s *Socket, sys *System, conn Conn, opts Options) *Endpoint {
	info := conn.Info()
	s.conn = conn
	s.hot = hotInfo{
		datagram: info.Datagram, connected: info.Connected, maxMsgSize: int32(min(info.MaxMsgSize, math.MaxInt32)),
		// Received may skip InvokeUserMessage only where that skips nothing
		// the user set up: middleware, context decorators and actor
		// metrics (see plainProps; the receive timeout is checked as it
		// changes, see noteReceiveTimeout).
		plainReceive: sp.plain && sys.Actors.Config.MetricsProvider == nil,
	}
	s.holding.Store(true)
	s.loopTask = s.runLoopTask
	sp.mu.Lock()
	if sp.cfg == nil || sp.cfg.sys != sys || sp.opts != opts {
		sp.opts, sp.cfg = opts, newSocketConfig(sys, opts)
	}
	s.cfg = sp.cfg
	if s.cfg.maxUnreleasedRead > 0 {
		s.onReleased = s.released
	}
	sp.next = s
	s.pid = sys.Actors.Root.SpawnPrefix(sp.props, "socket")
	sp.next = nil
	sp.mu.Unlock()
	// The socket is its own Process in the registry: System.Lookup finds it
	// there, and protoactor's ActorProcess (the one it registered) goes.
	// Nobody has the PID yet, so nobody has resolved it to that one.
	sys.Actors.ProcessRegistry.LocalPIDs.GetBucket(s.pid.Id).Set(s.pid.Id, (*socketProcess)(s))
	return (*Endpoint)(s)
}
