package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"
	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/overlapio/overlap/actor"
)

// Config configures an Engine. The zero value is usable.
type Config struct {
	// Loops is the number of event loops per listener (and for dialing).
	// Default: the number of CPUs.
	Loops int
	// SpareProcessor keeps GOMAXPROCS one above the event loops running
	// (those of every listener and of the dialer, counted with those of
	// other engines that ask the same): it raises GOMAXPROCS if it must,
	// and puts back the value it found when the last of those loops stops,
	// unless GOMAXPROCS was changed meanwhile. When the GOMAXPROCS
	// environment variable is set, GOMAXPROCS is left alone.
	//
	// To the Go runtime a loop waiting for events is in a system call; with
	// no processor (P) idle, the runtime takes a waiting loop's P away at
	// nearly every wait. A server driven by what it reads gains: in bench/'s
	// echo on 2 CPUs with 2 loops, CPU per message fell 7-12% at 100, 1,000
	// and 50 connections (overlap with and without it in the same run).
	// Goroutines that keep busy get the P too, and run beside the loops on
	// CPUs the loops need: bench/'s broadcaster, sending to 1,000 sockets
	// 1,000 times a second, used 17% more CPU per message with it (and 11%
	// less at 100 sockets). Off by default: it changes a setting of the
	// whole process. See transport/procs.go.
	SpareProcessor bool
	// Logger receives the engine's and gnet's log records; default: the
	// System's logger (quiet unless the caller gave one).
	Logger *slog.Logger
	// Socket configures the sockets of every listener and dial that does
	// not bring its own options.
	Socket actor.Options
	// Context, if set, stops the engine when it ends (as Stop with
	// StopTimeout), for services whose shutdown is a cancelled context.
	Context context.Context
	// StopTimeout bounds the graceful part of a stop triggered by Context;
	// default 10 s.
	StopTimeout time.Duration
}

// Engine runs listeners and dialed connections on gnet event loops, one
// socket actor per connection. It starts nothing global: each listener is a
// gnet engine of its own, dials share one gnet client, and Stop ends them
// all and leaves no goroutine behind.
type Engine struct {
	sys   *actor.System
	cfg   Config
	log   *slog.Logger
	watch *watcher

	mu             sync.Mutex
	listeners      []*Listener
	client         *gnet.Client
	cbridge        *bridge
	clientReleaseP func() // gives back the client's loops' spare P
	stopped        bool
	live           map[*actor.Socket]struct{} // guarded by mu; open sockets
	drained        chan struct{}              // closed when live empties during Stop
	done           chan struct{}              // closed when Stop has finished
	stopErr        error                      // Stop's result, set before done closes
}

// NewEngine makes an engine for sys.
func NewEngine(sys *actor.System, cfg Config) (*Engine, error) {
	if sys == nil || !sys.Running() {
		return nil, actor.ErrNotInitialised
	}
	if cfg.Loops <= 0 {
		cfg.Loops = runtime.NumCPU()
	}
	log := cfg.Logger
	if log == nil {
		log = sys.Logger
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	w, err := newWatcher()
	if err != nil {
		return nil, err
	}
	e := &Engine{sys: sys, cfg: cfg, log: log, watch: w, live: make(map[*actor.Socket]struct{}), done: make(chan struct{})}
	if cfg.Context != nil {
		if cfg.StopTimeout <= 0 {
			cfg.StopTimeout = 10 * time.Second
		}
		go func() {
			select {
			case <-cfg.Context.Done():
				ctx, cancel := context.WithTimeout(context.Background(), cfg.StopTimeout)
				defer cancel()
				_ = e.Stop(ctx)
			case <-e.done: // stopped explicitly
			}
		}()
	}
	return e, nil
}

// Done is closed when the engine has stopped (by Stop, or by the end of
// Config.Context); Err then reports how the stop went.
func (e *Engine) Done() <-chan struct{} { return e.done }

// Err returns the error of the engine's stop once Done is closed.
func (e *Engine) Err() error {
	select {
	case <-e.done:
		return e.stopErr
	default:
		return nil
	}
}

// isStopping reports whether Stop has begun.
func (e *Engine) isStopping() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stopped
}

// track counts open sockets so Stop can wait for graceful closes. Adding
// one reports false once Stop has begun (the caller closes it; it is still
// counted, so Stop waits for it).
func (e *Engine) track(s *actor.Socket, delta int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if delta > 0 {
		e.live[s] = struct{}{}
		return !e.stopped
	}
	delete(e.live, s)
	if len(e.live) == 0 && e.drained != nil {
		close(e.drained)
		e.drained = nil
	}
	return true
}

// Listener is a listening socket whose accepted connections become socket
// actors spawned from the listener's Props.
type Listener struct {
	e    *Engine
	b    *bridge
	g    gnet.Engine
	addr net.Addr
	done chan error // gnet.Run's result
	sock *actor.Socket

	releaseP func() // gives back the loops' spare P (Engine.spareP)
}

// Option adjusts one Listen or Dial.
type Option func(*optionSet)

type optionSet struct{ socket *actor.Options }

// WithSocketOptions gives a listener's or a dial's sockets their own options
// instead of the engine's Config.Socket.
func WithSocketOptions(o actor.Options) Option {
	return func(c *optionSet) { c.socket = &o }
}

// socketOptions applies opts over the engine's defaults.
func (e *Engine) socketOptions(opts []Option) actor.Options {
	var set optionSet
	for _, o := range opts {
		o(&set)
	}
	if set.socket != nil {
		return *set.socket
	}
	return e.cfg.Socket
}

// Listen starts accepting on network ("tcp", "tcp4", "tcp6", "unix") and
// address; every accepted connection becomes a socket actor spawned from
// props. Port 0 picks a free port: Addr reports the bound address.
//
// On "udp", "udp4" and "udp6" Listen binds one unconnected datagram socket
// instead: one socket actor from props (Listener.Socket) receives every
// datagram as Received with its sender in From; having no default peer, it
// refuses sends with ErrNotConn (dial a connected UDP socket to send).
func (e *Engine) Listen(network, address string, props *protoactor.Props, opts ...Option) (*Listener, error) {
	sopts := e.socketOptions(opts)
	loops := e.cfg.Loops
	switch network {
	case "tcp", "tcp4", "tcp6", "unix":
	case "udp", "udp4", "udp6":
		loops = 1 // one socket, one loop (gnet would open one per loop)
	default:
		return nil, &actor.OpError{Op: "listen", Kind: actor.ErrOpNotSupported, Err: fmt.Errorf("network %q", network)}
	}
	e.mu.Lock()
	if e.stopped {
		e.mu.Unlock()
		return nil, actor.ErrNotInitialised
	}
	e.mu.Unlock()

	b := newBridge(e, network, props, sopts)
	l := &Listener{e: e, b: b, done: make(chan error, 1), releaseP: e.spareP(loops)}
	go func() {
		l.done <- gnet.Run(b, network+"://"+address,
			gnet.WithMulticore(loops > 1),
			gnet.WithNumEventLoop(loops),
			gnet.WithLogger(gnetLogger{e.log}),
			gnet.WithTCPNoDelay(gnet.TCPNoDelay),
			gnet.WithReuseAddr(true))
	}()
	select {
	case g := <-b.booted:
		l.g = g
	case err := <-l.done:
		l.releaseP()
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	addr, err := boundAddr(l.g, network)
	if err != nil {
		l.stop()
		return nil, err
	}
	l.addr = addr
	if b.unbound != nil {
		l.sock = b.unbound.Socket()
	} else if b.bootErr != nil {
		l.stop()
		return nil, b.bootErr
	}
	e.mu.Lock()
	if e.stopped {
		// Stop ran while this listener started: it would outlive the engine.
		e.mu.Unlock()
		_ = l.stop()
		return nil, actor.ErrNotInitialised
	}
	e.listeners = append(e.listeners, l)
	e.mu.Unlock()
	return l, nil
}

// Socket returns the socket actor of a UDP listener (nil for stream
// listeners, whose sockets are the accepted connections).
func (l *Listener) Socket() *actor.Socket { return l.sock }

// boundAddr asks the listening socket for its address (the real port when
// 0 was asked for).
func boundAddr(g gnet.Engine, network string) (net.Addr, error) {
	fd, err := g.Dup()
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return nil, err
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		if strings.HasPrefix(network, "udp") {
			return &net.UDPAddr{IP: net.IP(a.Addr[:]).To16(), Port: a.Port}, nil
		}
		return &net.TCPAddr{IP: net.IP(a.Addr[:]).To16(), Port: a.Port}, nil
	case *unix.SockaddrInet6:
		if strings.HasPrefix(network, "udp") {
			return &net.UDPAddr{IP: net.IP(a.Addr[:]), Port: a.Port}, nil
		}
		return &net.TCPAddr{IP: net.IP(a.Addr[:]), Port: a.Port}, nil
	case *unix.SockaddrUnix:
		return &net.UnixAddr{Name: a.Name, Net: network}, nil
	}
	return nil, fmt.Errorf("overlap: unexpected listener address %T", sa)
}

// spareP leaves a P spare beside loops more event loops when the engine
// asks for one (Config.SpareProcessor); the func returned gives it back.
func (e *Engine) spareP(loops int) func() {
	if !e.cfg.SpareProcessor {
		return func() {}
	}
	return acquireSpareP(loops)
}

// bridges lists the engine's gnet event handlers (for tests).
func (e *Engine) bridges() []*bridge {
	e.mu.Lock()
	defer e.mu.Unlock()
	var bs []*bridge
	for _, l := range e.listeners {
		bs = append(bs, l.b)
	}
	if e.cbridge != nil {
		bs = append(bs, e.cbridge)
	}
	return bs
}

// Addr returns the address the listener is bound to.
func (l *Listener) Addr() net.Addr { return l.addr }

// stop ends the listener's gnet engine; its open connections close and their
// pending sends complete with ErrOperationAborted.
func (l *Listener) stop() error {
	stopCtx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		_ = l.g.Stop(stopCtx) // polls every 500 ms; we wait on Run instead
	}()
	err := <-l.done
	l.releaseP() // the loops have ended
	cancel()
	<-stopped
	if l.b.unbound != nil {
		l.b.unbound.Closed(nil) // the loop is gone: no datagram races this
	}
	return err
}

// Dial connects to address on network ("tcp", "tcp4", "tcp6", "unix",
// "udp", "udp4", "udp6") and returns the socket actor spawned from props
// for the connection. ctx bounds the connect.
//
// A dialed UDP socket is closed by gnet on the first ICMP port-unreachable
// its peer causes (its read fails), so later sends fail with ErrNotSock;
// Winsock would report WSAECONNRESET once and keep the socket.
func (e *Engine) Dial(ctx context.Context, network, address string, props *protoactor.Props, opts ...Option) (*actor.Socket, error) {
	sopts := e.socketOptions(opts)
	cli, err := e.dialer(network)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	req := &dialRequest{network: network, props: props, opts: sopts, result: make(chan dialResult, 1)}
	if _, err := cli.EnrollContext(nc, req); err != nil {
		return nil, err
	}
	select {
	case r := <-req.result:
		return r.sock, r.err
	default:
		return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("overlap: connection closed while registering")}
	}
}

// dialer returns the engine's gnet client, starting it on first use. gnet
// clients carry one protocol's bridge, so one network family is fixed per
// engine for now: the bridge reads the network from each connection.
func (e *Engine) dialer(network string) (*gnet.Client, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return nil, actor.ErrNotInitialised
	}
	if e.client != nil {
		return e.client, nil
	}
	b := newBridge(e, "", nil, e.cfg.Socket)
	release := e.spareP(e.cfg.Loops)
	cli, err := gnet.NewClient(b,
		gnet.WithMulticore(e.cfg.Loops > 1),
		gnet.WithNumEventLoop(e.cfg.Loops),
		gnet.WithLogger(gnetLogger{e.log}),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay))
	if err != nil {
		release()
		return nil, err
	}
	if err := cli.Start(); err != nil {
		release()
		return nil, err
	}
	<-b.booted
	e.client, e.cbridge, e.clientReleaseP = cli, b, release
	return cli, nil
}

// Stop closes every socket gracefully (each one's earlier sends are handed
// to the kernel first), waits for them until ctx ends, then stops the event
// loops: sockets still open then are closed and their pending sends complete
// with ErrOperationAborted. Stop leaves no goroutine behind.
func (e *Engine) Stop(ctx context.Context) error {
	e.mu.Lock()
	if e.stopped {
		e.mu.Unlock()
		select {
		case <-e.done: // another Stop finished it
			return e.stopErr
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	e.stopped = true
	socks := make([]*actor.Socket, 0, len(e.live))
	for s := range e.live {
		socks = append(socks, s)
	}
	// drained is closed when the last socket closes, including sockets
	// accepted after this point (track closes those at once).
	var drained chan struct{}
	if len(e.live) > 0 {
		drained = make(chan struct{})
		e.drained = drained
	}
	listeners, cli, cliReleaseP := e.listeners, e.client, e.clientReleaseP
	e.mu.Unlock()

	for _, s := range socks {
		_ = s.Close()
	}
	var err error
	if drained != nil {
		select {
		case <-drained:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	for _, l := range listeners {
		if lerr := l.stop(); lerr != nil && err == nil {
			err = lerr
		}
	}
	if cli != nil {
		if cerr := cli.Stop(); cerr != nil && err == nil && !strings.Contains(cerr.Error(), "shutdown") {
			err = cerr
		}
		cliReleaseP()
	}
	e.watch.stop()
	e.stopErr = err
	close(e.done)
	return err
}
