package transport

import (
	"errors"
	"net"
	"os"
	"strings"
	"sync"

	protoactor "github.com/asynkron/protoactor-go/actor"
	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/wsabuf"
)

// bridge is the gnet event handler of one gnet engine (a listener, or the
// dialing client): it turns gnet's callbacks into endpoint calls on the
// connection's socket. It knows nothing of users' messages.
type bridge struct {
	gnet.BuiltinEventEngine
	eng      *Engine
	spawner  *actor.Spawner // the listener's Props, prepared once; nil for the client, whose dials bring their own
	opts     actor.Options
	network  string
	booted   chan gnet.Engine
	unbound  *actor.Endpoint // the socket of an unconnected UDP listener; set in OnBoot
	bootErr  error
	shutdown bool // guarded by mu: OnShutdown ran

	mu    sync.Mutex
	loops map[gnet.EventLoop]*loopState // guarded by mu
}

func newBridge(e *Engine, network string, props *protoactor.Props, opts actor.Options) *bridge {
	var spawner *actor.Spawner
	if props != nil {
		spawner = actor.NewSpawner(props)
	}
	return &bridge{eng: e, spawner: spawner, opts: opts, network: network,
		booted: make(chan gnet.Engine, 1), loops: make(map[gnet.EventLoop]*loopState)}
}

func (b *bridge) OnBoot(e gnet.Engine) gnet.Action {
	if strings.HasPrefix(b.network, "udp") {
		// The listener's one socket exists before the loop reads a datagram.
		b.bootErr = b.makeUnbound(e)
	}
	b.booted <- e
	return gnet.None
}

// makeUnbound creates the socket of an unconnected UDP listener.
func (b *bridge) makeUnbound(e gnet.Engine) error {
	addr, err := boundAddr(e, b.network)
	if err != nil {
		return err
	}
	info := actor.ConnInfo{Network: b.network, LocalAddr: addr, Datagram: true, MaxMsgSize: maxDatagram(addr)}
	_, ep, err := b.spawner.NewSocket(b.eng.sys, &unboundConn{info: info}, b.opts)
	if err != nil {
		return err
	}
	// Started here, before the loop can read: Connected comes first.
	ep.StartUnbound()
	b.unbound = ep
	return nil
}

// dialRequest travels as a dialed connection's gnet context into OnOpen.
type dialRequest struct {
	network string
	props   *protoactor.Props
	opts    actor.Options
	result  chan dialResult
}

type dialResult struct {
	sock *actor.Socket
	err  error
}

func (b *bridge) loopFor(el gnet.EventLoop) *loopState {
	b.mu.Lock()
	defer b.mu.Unlock()
	ls := b.loops[el]
	if ls == nil {
		ls = newLoopState(el, b.eng.watch)
		ls.stopped.Store(b.shutdown)
		b.loops[el] = ls
	}
	return ls
}

func (b *bridge) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	spawner, opts, network := b.spawner, b.opts, b.network
	req, _ := c.Context().(*dialRequest)
	if req != nil {
		spawner, opts, network = actor.NewSpawner(req.props), req.opts, req.network
	}
	var g *gconn
	var sock *actor.Socket
	var ep *actor.Endpoint
	var err error = actor.ErrNotInitialised // the engine is stopping: no new sockets
	if !b.eng.isStopping() {
		// The gconn shares the socket's allocation (see NewSocketWith).
		g, sock, ep, err = actor.NewSocketWith(spawner, b.eng.sys, opts, func(g *gconn) {
			*g = gconn{c: c, fd: int32(c.Fd()), pool: readPool(opts), loop: b.loopFor(c.EventLoop()), info: connInfo(network, c)}
			g.lend = opts.LendReceived && !(g.info.Datagram && !g.info.Connected)
		})
	}
	if req != nil {
		req.result <- dialResult{sock, err}
	}
	if err != nil {
		return nil, gnet.Close
	}
	if opts.SendBuffer > 0 {
		if err := unix.SetsockoptInt(int(g.fd), unix.SOL_SOCKET, unix.SO_SNDBUF, opts.SendBuffer); err != nil {
			b.eng.log.Warn("overlap: SO_SNDBUF", "remote", c.RemoteAddr(), "err", err)
		}
	}
	g.ep = ep
	c.SetContext(g)
	if !b.eng.track(sock, +1) {
		// Stop began between the check and now: close this one too.
		_ = sock.Close()
	}
	ep.Start()
	return nil, gnet.None
}

// OnShutdown marks the engine's loops stopped: posts to them fail from now
// on instead of queueing tasks that will never run.
func (b *bridge) OnShutdown(gnet.Engine) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ls := range b.loops {
		ls.stopped.Store(true)
	}
	b.shutdown = true
}

// datagram delivers one datagram of an unconnected UDP listener, with the
// sender's address (copied: gnet recycles its per-datagram connection).
func (b *bridge) datagram(c gnet.Conn) gnet.Action {
	data, _ := c.Next(-1)
	buf, err := readPool(b.opts).Get(len(data))
	if err != nil {
		b.eng.sys.Logger.Warn("overlap: receive buffer pool exhausted; datagram dropped", "from", c.RemoteAddr(), "err", err)
		return gnet.None
	}
	copy(buf.Bytes(), data)
	var from net.Addr
	if a, ok := c.RemoteAddr().(*net.UDPAddr); ok {
		from = &net.UDPAddr{IP: append(net.IP(nil), a.IP...), Port: a.Port, Zone: strings.Clone(a.Zone)}
	}
	b.unbound.Received(buf, from)
	return gnet.None
}

// unboundConn is the actor.Conn of an unconnected UDP listener: it has no
// default peer, so every send is refused (ErrNotConn) before reaching it, and
// no event loop runs its actor.
type unboundConn struct{ info actor.ConnInfo }

var errNoLoop = errors.New("overlap: an unconnected datagram socket has no event loop")

func (u *unboundConn) Info() actor.ConnInfo                       { return u.info }
func (u *unboundConn) Post(func()) error                          { return errNoLoop }
func (u *unboundConn) Writev([][]byte) (int, error)               { return 0, unix.ENOTCONN }
func (u *unboundConn) SendMsg([][]byte, actor.Flags) (int, error) { return 0, unix.ENOTCONN }
func (u *unboundConn) AwaitWritable() error                       { return unix.ENOTCONN }
func (u *unboundConn) PauseRead() error                           { return nil }
func (u *unboundConn) ResumeRead() error                          { return nil }
func (u *unboundConn) ShutdownWrite() error                       { return nil }
func (u *unboundConn) Unacked() (int, error)                      { return 0, unix.ENOTCONN }
func (u *unboundConn) SendFile(*os.File, int64, int) (int, error) { return 0, unix.ENOTCONN }
func (u *unboundConn) Close(bool) error                           { return nil }

func (b *bridge) OnClose(c gnet.Conn, err error) gnet.Action {
	g, ok := c.Context().(*gconn)
	if !ok || g.closed {
		return gnet.None
	}
	b.eng.watch.forget(g)
	g.closed = true
	if err == nil && g.reason != nil {
		err = g.reason
	}
	g.ep.Closed(err)
	b.eng.track(g.ep.Socket(), -1)
	return gnet.None
}

// connInfo describes a gnet connection.
func connInfo(network string, c gnet.Conn) actor.ConnInfo {
	info := actor.ConnInfo{Network: network, LocalAddr: c.LocalAddr(), RemoteAddr: c.RemoteAddr(), Connected: true}
	switch network {
	case "udp", "udp4", "udp6":
		info.Datagram = true
		info.MaxMsgSize = maxDatagram(c.RemoteAddr())
	}
	return info
}

// maxDatagram is the largest UDP payload to or from addr: 65,535 less the
// IPv4 (20) or IPv6 (none: its 40-byte header is outside the length) and UDP
// (8) headers.
func maxDatagram(addr net.Addr) int {
	if a, ok := addr.(*net.UDPAddr); ok && a.IP.To4() == nil {
		return 65527
	}
	return 65507
}

// readPool is the pool Received buffers come from.
func readPool(o actor.Options) *wsabuf.Pool {
	if o.ReadPool != nil {
		return o.ReadPool
	}
	return wsabuf.Default()
}
