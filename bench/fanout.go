package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"
	"github.com/panjf2000/gnet/v2"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/transport"
	"github.com/overlapio/overlap/wsabuf"
)

// The fan-out servers (-mode fanout): a hub goroutine broadcasts one
// -size-byte frame (stream 0, numbered, stamped with its send time) to
// every open connection, -rate times a second.
//
//	overlap: the frame is copied once into a pooled wsabuf.Buf that every
//	         socket's send holds (broadcaster), so a broadcast allocates
//	         nothing per socket.
//	gnet:    a fresh copy of the frame per broadcast, written by one task
//	         on each event loop to that loop's connections (gnetFanOut).
//	netconn: a fresh copy per broadcast, handed to each connection's
//	         goroutine through its channel; the goroutine writes it. The hub
//	         waits for a connection fanOutQueue broadcasts behind (and so
//	         broadcasts less often), as overlap's sockets queue up to their
//	         pending limits: neither drops a slow client here.
const fanOutQueue = 256

// fanOutScenarios are the fan-out family's scenarios: the issue's, which
// overloads a 2-core machine running the client too (every server falls
// behind, so it measures overload), and one tenth of its load. The target
// is on the first.
var fanOutScenarios = []struct {
	Conns, Size, Rate int
	Target            float64
}{{1000, fanOutSize, 1000, 1.5}, {100, fanOutSize, 1000, 0}}

// fanOutSize is the broadcast's size, in the scenarios and the
// allocation count.
const fanOutSize = 256

// hub is the set of connections a fan-out server broadcasts to.
type hub[T comparable] struct {
	mu      sync.Mutex // guards members and index
	members []T
	index   map[T]int // position in members
}

func newHub[T comparable]() *hub[T] { return &hub[T]{index: map[T]int{}} }

func (h *hub[T]) join(t T) {
	h.mu.Lock()
	h.index[t] = len(h.members)
	h.members = append(h.members, t)
	h.mu.Unlock()
}

// leave takes t out, if it is in.
func (h *hub[T]) leave(t T) {
	h.mu.Lock()
	defer h.mu.Unlock()
	i, ok := h.index[t]
	if !ok {
		return
	}
	last := len(h.members) - 1
	h.members[i] = h.members[last]
	h.index[h.members[i]] = i
	h.members = h.members[:last]
	delete(h.index, t)
}

// run broadcasts a size-byte frame rate times a second, forever: each tick
// stamps the frame with its number and the time, and calls send with the
// members, under mu. A tick that comes while a broadcast is still running
// is dropped (time.Ticker), so a slow server broadcasts less often.
func (h *hub[T]) run(rate, size int, send func(members []T, frame []byte)) {
	frame := newFrame(0, size)
	t := time.NewTicker(time.Second / time.Duration(rate))
	for seq := uint64(0); ; seq++ {
		now := <-t.C
		stamp(frame, seq, now.UnixNano())
		h.mu.Lock()
		send(h.members, frame)
		h.mu.Unlock()
	}
}

// broadcaster sends one message to many overlap sockets from one pooled
// buffer, allocating nothing per socket.
//
// Buffer ownership: broadcast copies the message into a wsabuf.Buf from
// pool and takes one reference per socket (Retain); each socket's send
// holds one (Send.Hold) and releases it at its completion, refused sends
// at once, so the buffer goes back to the pool after the last socket's
// kernel has the bytes. The Send and its one-segment array are reused for
// every socket: Socket.Send copies both.
type broadcaster struct {
	pool *wsabuf.Pool
	bufs [1][]byte
	send actor.Send
}

// broadcast sends msg to every socket of socks. released, when not nil, is
// called once the last send has released the buffer.
func (b *broadcaster) broadcast(socks []*actor.Socket, msg []byte, released func(size int)) error {
	if len(socks) == 0 {
		return nil
	}
	buf, err := b.pool.Get(len(msg))
	if err != nil {
		return err
	}
	copy(buf.Bytes(), msg)
	if released != nil {
		buf.OnRelease(released)
	}
	buf.Retain(len(socks) - 1)
	b.bufs[0] = buf.Bytes()
	b.send = actor.Send{Buffers: b.bufs[:], Hold: buf}
	for _, s := range socks {
		_ = s.Send(&b.send) // a refused send releases its reference
	}
	return nil
}

// fanOutServers returns the fan-out servers, and starts the hub of kind's.
func fanOutServers(m serverMode, kind string) modeServers {
	socks := newHub[*actor.Socket]()
	loops := newHub[*gnetLoop]()
	chans := newHub[*chanMember]()
	switch kind {
	case "gnet":
		go loops.run(m.Rate, m.Size, func(members []*gnetLoop, frame []byte) {
			msg := append([]byte(nil), frame...) // the loops' until written
			for _, l := range members {
				_ = l.el.Execute(context.Background(), gnetBroadcast{l, msg})
			}
		})
	case "netconn":
		go chans.run(m.Rate, m.Size, func(members []*chanMember, frame []byte) {
			msg := append([]byte(nil), frame...) // shared, never written again
			for _, c := range members {
				select {
				case c.ch <- msg: // waits while fanOutQueue broadcasts are queued for c
				case <-c.gone:
				}
			}
		})
	default:
		b := &broadcaster{pool: wsabuf.Default()}
		go socks.run(m.Rate, m.Size, func(members []*actor.Socket, frame []byte) { _ = b.broadcast(members, frame, nil) })
	}
	return modeServers{
		overlap: protoactor.PropsFromFunc(func(ctx protoactor.Context) {
			switch c := ctx.Message().(type) {
			case *actor.Connected:
				socks.join(c.Socket)
			case *actor.Closed:
				socks.leave(c.Socket)
			}
		}),
		gnet: &gnetFanOut{hub: loops, loops: map[gnet.EventLoop]*gnetLoop{}},
		netconn: func(c net.Conn) {
			m := &chanMember{ch: make(chan []byte, fanOutQueue), gone: make(chan struct{})}
			chans.join(m)
			for msg := range m.ch {
				if _, err := c.Write(msg); err != nil {
					close(m.gone) // before leave: the hub may be waiting on m.ch, holding the hub's lock
					chans.leave(m)
					return
				}
			}
		},
	}
}

// chanMember is a net.Conn fan-out connection's channel, and gone, closed
// by its goroutine when the connection has failed.
type chanMember struct {
	ch   chan []byte
	gone chan struct{}
}

// gnetFanOut keeps each event loop's connections, and the hub's set of
// loops that have any. A broadcast is one task on each loop, which writes
// to the loop's connections there (the raw gnet way: one task per loop,
// not per connection, and writes only on the loop that owns them).
type gnetFanOut struct {
	gnetBoot
	hub   *hub[*gnetLoop]
	mu    sync.Mutex // guards loops
	loops map[gnet.EventLoop]*gnetLoop
}

// gnetLoop is one event loop's open connections, owned by that loop.
type gnetLoop struct {
	el    gnet.EventLoop
	conns map[gnet.Conn]struct{}
}

// gnetBroadcast writes msg to every connection of a loop, on the loop.
type gnetBroadcast struct {
	l   *gnetLoop
	msg []byte
}

func (b gnetBroadcast) Run(context.Context) error {
	for c := range b.l.conns {
		_, _ = c.Write(b.msg)
	}
	return nil
}

func (h *gnetFanOut) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	h.mu.Lock()
	l := h.loops[c.EventLoop()]
	if l == nil {
		l = &gnetLoop{el: c.EventLoop(), conns: map[gnet.Conn]struct{}{}}
		h.loops[c.EventLoop()] = l
		h.hub.join(l)
	}
	h.mu.Unlock()
	l.conns[c] = struct{}{}
	return nil, gnet.None
}

func (h *gnetFanOut) OnClose(c gnet.Conn, _ error) gnet.Action {
	h.mu.Lock()
	l := h.loops[c.EventLoop()]
	h.mu.Unlock()
	if l != nil {
		delete(l.conns, c)
	}
	return gnet.None
}

// readFanOut checks one fan-out connection: every frame whole, numbered
// one after the other from the first that arrived, and samples latency
// (arrival less the frame's send time) while the window is open.
func readFanOut(size int) func(int, net.Conn, *meter) error {
	return func(_ int, c net.Conn, m *meter) error {
		fc := newFrameChecker(1, size)
		var next uint64
		started := false
		var lat []time.Duration
		defer func() { m.lat.add(lat) }()
		return readFrames(c, size, func(frames []byte) error {
			now := time.Now().UnixNano()
			counting := m.add(int64(len(frames)/size), int64(len(frames)))
			for f := frames; len(f) > 0; f = f[size:] {
				_, seq, sent, err := fc.check(f[:size])
				if err != nil {
					return err
				}
				if started && seq != next {
					return fmt.Errorf("broadcast %d where %d was due: loss or reordering", seq, next)
				}
				started, next = true, seq+1
				if counting && len(lat) < maxSamplesPerConn {
					lat = append(lat, time.Duration(now-sent))
				}
			}
			return nil
		})
	}
}

// runFanOut is the fan-out family (letter f).
func runFanOut(cfg config, _ string) (section, error) {
	sec := section{
		Title: "Fan-out",
		Note: "The client opens conns connections; the server broadcasts one frame to all of them rate times a second " +
			"(a numbered frame stamped with its send time). The client checks that every connection gets every frame whole and in order " +
			"from its first, and takes latency as arrival less send time. The rate is fixed, so server CPU per delivered message is the " +
			"figure to compare (the ratio with the target); delivered msgs/s below conns × rate means that the server (or the client, " +
			"on the same machine) did not keep up, and ticks were dropped.",
		Header: []string{"scenario", "server", "delivered msgs/s", "MB/s", "server CPU µs/msg", "p50 µs", "p99 µs",
			"msgs/s vs net.Conn", "net.Conn CPU/msg ÷ this"},
	}
	for _, sc := range fanOutScenarios {
		if err := fanOutScenario(cfg, &sec, sc.Conns, sc.Size, sc.Rate, sc.Target); err != nil {
			return sec, err
		}
	}
	a10, a100, err := broadcastAllocs()
	if err != nil {
		return sec, fmt.Errorf("allocations per broadcast: %w", err)
	}
	sec.Note += fmt.Sprintf(" overlap allocates %.1f times per broadcast to 10 sockets and %.1f to 100 (counted in this process "+
		"as testing.AllocsPerRun counts, the event loops' writes included; BenchmarkFanOutOverlap and TestFanOutAllocsConstant).", a10, a100)
	return sec, nil
}

// fanOutScenario runs one fan-out scenario and adds its rows and ratios to
// sec; target is the one on overlap's CPU per message against net.Conn's.
func fanOutScenario(cfg config, sec *section, conns, size, rate int, target float64) error {
	name := fmt.Sprintf("f: %d B to %d conns × %d/s", size, conns, rate)
	args := []string{"-mode", "fanout", "-size", strconv.Itoa(size), "-rate", strconv.Itoa(rate)}
	cs := kindContenders(cfg.Kinds)
	fig, err := runRounds(cfg, name, args, cs, func(srv *server) (echoResult, error) {
		return runPush(srv, conns, cfg.Warm, cfg.Measure, readFanOut(size))
	})
	if err != nil {
		return err
	}
	nc := fig["netconn"]
	for _, c := range cs {
		f := fig[c.Label]
		row := pushRow(name, c.Label, f, nc)
		row = slices.Insert(row, 5, fmt.Sprintf("%.0f", median(f.p50)), fmt.Sprintf("%.0f", median(f.p99)))
		sec.Rows = append(sec.Rows, row)
	}
	if o := fig["overlap"]; o != nil {
		id := fmt.Sprintf("fan-out %d conns", conns)
		sec.Ratios = append(sec.Ratios,
			ratio{Label: id + " net.Conn CPU/msg ÷ overlap's", paired: pairedRatio(nc.cpu, o.cpu), Target: target},
			ratio{Label: id + " delivered msgs/s vs net.Conn", paired: pairedRatio(o.rate, nc.rate)},
			ratio{Label: id + " gnet CPU/msg ÷ overlap's", paired: pairedRatio(fig["gnet"].cpu, o.cpu)},
		)
	}
	return nil
}

// broadcastRig is n overlap sockets in this process, on an engine of their
// own, connected to a listener that discards what they send: what the
// allocation count of a broadcast is taken on.
type broadcastRig struct {
	sys      *actor.System
	eng      *transport.Engine
	ln       net.Listener
	drains   sync.WaitGroup // the listener's goroutines
	socks    []*actor.Socket
	b        broadcaster
	msg      []byte
	released chan struct{}
	onFree   func(int)   // signals released
	timeout  *time.Timer // bounds the wait for released, reused
}

func newBroadcastRig(n, size int) (*broadcastRig, error) {
	r := &broadcastRig{sys: actor.NewSystem(), b: broadcaster{pool: wsabuf.Default()}, msg: newFrame(0, size), released: make(chan struct{}, 1)}
	r.onFree = func(int) { r.released <- struct{}{} }
	r.timeout = time.NewTimer(time.Hour)
	var err error
	if r.ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		r.sys.Stop()
		return nil, err
	}
	r.drains.Add(1)
	go func() {
		defer r.drains.Done()
		for {
			c, err := r.ln.Accept()
			if err != nil {
				return
			}
			r.drains.Add(1)
			go func() {
				defer r.drains.Done()
				defer c.Close()
				_, _ = io.Copy(io.Discard, c)
			}()
		}
	}()
	if r.eng, err = transport.NewEngine(r.sys, transport.Config{Loops: 1}); err != nil {
		r.close()
		return nil, err
	}
	props := protoactor.PropsFromFunc(func(protoactor.Context) {})
	for i := 0; i < n; i++ {
		s, err := r.eng.Dial(context.Background(), "tcp", r.ln.Addr().String(), props)
		if err != nil {
			r.close()
			return nil, err
		}
		r.socks = append(r.socks, s)
	}
	return r, nil
}

// broadcast sends one broadcast to the first n sockets and waits until
// every send has completed (the buffer is released).
func (r *broadcastRig) broadcast(n int) error {
	if err := r.b.broadcast(r.socks[:n], r.msg, r.onFree); err != nil {
		return err
	}
	r.timeout.Reset(10 * time.Second)
	defer r.timeout.Stop()
	select {
	case <-r.released:
		return nil
	case <-r.timeout.C:
		return fmt.Errorf("a broadcast to %d sockets did not complete in 10 s", n)
	}
}

// allocsPerBroadcast is the mean count of heap allocations a broadcast to
// the first n sockets makes in this whole process (runtime.MemStats, as
// testing.AllocsPerRun counts), over runs broadcasts after one to warm up.
func (r *broadcastRig) allocsPerBroadcast(n, runs int) (float64, error) {
	if err := r.broadcast(n); err != nil {
		return 0, err
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < runs; i++ {
		if err := r.broadcast(n); err != nil {
			return 0, err
		}
	}
	runtime.ReadMemStats(&after)
	return float64(after.Mallocs-before.Mallocs) / float64(runs), nil
}

func (r *broadcastRig) close() {
	if r.eng != nil {
		_ = r.eng.Stop(context.Background())
	}
	r.sys.Stop()
	r.ln.Close()
	r.drains.Wait()
}

// broadcastAllocs measures overlap's allocations per broadcast to 10 and
// to 100 sockets.
func broadcastAllocs() (at10, at100 float64, err error) {
	r, err := newBroadcastRig(100, fanOutSize)
	if err != nil {
		return 0, 0, err
	}
	defer r.close()
	if at10, err = r.allocsPerBroadcast(10, 200); err != nil {
		return 0, 0, err
	}
	at100, err = r.allocsPerBroadcast(100, 200)
	return at10, at100, err
}
