package main

import (
	"context"
	"fmt"
	"net"
	"strconv"

	protoactor "github.com/asynkron/protoactor-go/actor"
	"github.com/panjf2000/gnet/v2"

	"github.com/overlapio/overlap/actor"
)

// The fan-in servers (-mode fanin): on each connection, -senders senders
// each send -size-byte frames of a stream of their own (sequence 0, 1, ...)
// as fast as the connection takes them, until it fails.
//
//	overlap:          goroutines calling Socket.Send; or, with -actors,
//	                  actors sending *actor.Send to the socket's PID, on
//	                  the System's Dispatcher.
//	gnet:             goroutines calling AsyncWrite on the one gnet.Conn.
//	netconn:          goroutines calling Write on the one net.Conn, which
//	                  writes each frame whole, one at a time.
//
// overlap's and gnet's senders keep at most fanInRing frames in flight
// each: a frame's bytes are the system's until its send completes, so
// each sender stamps frames into a ring of its own, and learns that a
// ring slot is free again from a completion on the last frame of each
// block of fanInBlock (a socket completes its sends in order, so that
// covers the block). gnet's completion (the AsyncWrite callback) comes when
// the bytes are written or copied into its unbounded outbound buffer.
const (
	fanInBlock = 16
	fanInRing  = 2 * fanInBlock
)

// fanInScenario is the fan-in family's one scenario.
var fanInScenario = struct {
	Name          string
	Senders, Size int
}{"n: 64 senders × 64 B to 1 conn", 64, 64}

func fanInServers(m serverMode, sys *actor.System) modeServers {
	return modeServers{
		overlap: protoactor.PropsFromFunc(func(ctx protoactor.Context) {
			c, ok := ctx.Message().(*actor.Connected)
			if !ok {
				return
			}
			for id := 0; id < m.Senders; id++ {
				if m.Actors {
					// Children of the socket's actor: they stop with it.
					ctx.Spawn(protoactor.PropsFromProducer(func() protoactor.Actor {
						return &fanInActor{sock: c.Socket, ring: frameRing(id, m.Size)}
					}, protoactor.WithDispatcher(sys.Dispatcher())))
				} else {
					go fanInOverlap(c.Socket, frameRing(id, m.Size))
				}
			}
		}),
		gnet: &gnetFanIn{senders: m.Senders, size: m.Size},
		netconn: func(c net.Conn) {
			done := make(chan struct{}, m.Senders)
			for id := 0; id < m.Senders; id++ {
				go func() {
					defer func() { done <- struct{}{} }()
					f := newFrame(id, m.Size)
					for seq := uint64(0); ; seq++ {
						stamp(f, seq, 0)
						if _, err := c.Write(f); err != nil {
							return
						}
					}
				}()
			}
			for range m.Senders {
				<-done
			}
		},
	}
}

// frameRing is a sender's fanInRing frames of stream id.
func frameRing(id, size int) [][]byte {
	ring := make([][]byte, fanInRing)
	for i := range ring {
		ring[i] = newFrame(id, size)
	}
	return ring
}

// fanInOverlap is one goroutine sender: Socket.Send copies the Send and
// its buffer array, so one of each serves every frame.
func fanInOverlap(sock *actor.Socket, ring [][]byte) {
	var marks [2]actor.Overlapped // completed by the last frame of the last two blocks
	var bufs [1][]byte
	var m actor.Send
	for i := 0; ; i++ {
		block := i / fanInBlock
		mark := &marks[block%2]
		if i%fanInBlock == 0 && block >= 2 {
			// Block b reuses the slots of block b-2: wait for its last frame.
			if _, err := mark.Wait(context.Background()); err != nil {
				return
			}
		}
		f := ring[i%fanInRing]
		stamp(f, uint64(i), 0)
		bufs[0] = f
		m = actor.Send{Buffers: bufs[:]}
		if i%fanInBlock == fanInBlock-1 {
			m.Overlapped = mark
		}
		if err := sock.Send(&m); err != actor.ErrIOPending {
			return
		}
	}
}

// fanInActor is one actor sender. It sends two blocks when it starts and
// one more each time a block completes, into the slots of the block that
// did: the frames' bytes and the Send messages that carry them, both the
// socket's until their sends complete (so it allocates nothing per frame).
// Its fields are its own (an actor runs one message at a time).
type fanInActor struct {
	sock *actor.Socket
	ring [][]byte
	msgs [fanInRing]fanInMsg
	next uint64
}

// fanInMsg is a ring slot's Send message and its one-segment array.
type fanInMsg struct {
	send actor.Send
	bufs [1][]byte
}

func (a *fanInActor) Receive(ctx protoactor.Context) {
	switch m := ctx.Message().(type) {
	case *protoactor.Started:
		a.block(ctx)
		a.block(ctx)
	case *actor.Completion:
		if m.Err != nil {
			ctx.Stop(ctx.Self())
			return
		}
		a.block(ctx)
	}
}

// block sends fanInBlock frames; the last asks for a Completion (a
// Request's completion goes to its sender).
func (a *fanInActor) block(ctx protoactor.Context) {
	pid := a.sock.PID()
	for k := 0; k < fanInBlock; k++ {
		slot := &a.msgs[a.next%fanInRing]
		slot.bufs[0] = a.ring[a.next%fanInRing]
		stamp(slot.bufs[0], a.next, 0)
		a.next++
		slot.send = actor.Send{Buffers: slot.bufs[:]}
		m := &slot.send
		if k == fanInBlock-1 {
			ctx.Request(pid, m)
		} else {
			ctx.Send(pid, m)
		}
	}
}

// gnetFanIn starts the senders of each connection when it opens.
type gnetFanIn struct {
	gnetBoot
	senders, size int
}

func (h *gnetFanIn) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	for id := 0; id < h.senders; id++ {
		go gnetFanInSender(c, frameRing(id, h.size))
	}
	return nil, gnet.None
}

// gnetFanInSender is one goroutine sender on gnet, paced like
// fanInOverlap by a callback on the last frame of each block.
func gnetFanInSender(c gnet.Conn, ring [][]byte) {
	done := make(chan error, 2)
	callback := func(_ gnet.Conn, err error) error {
		done <- err
		return nil
	}
	for i := 0; ; i++ {
		if i%fanInBlock == 0 && i >= fanInRing {
			if err := <-done; err != nil {
				return
			}
		}
		f := ring[i%fanInRing]
		stamp(f, uint64(i), 0)
		var cb gnet.AsyncCallback
		if i%fanInBlock == fanInBlock-1 {
			cb = callback
		}
		if err := c.AsyncWrite(f, cb); err != nil {
			return
		}
	}
}

// readFanIn checks one fan-in connection: every frame whole, and each
// sender's frames in its own order from 0 (senders may interleave).
func readFanIn(senders, size int) func(int, net.Conn, *meter) error {
	return func(_ int, c net.Conn, m *meter) error {
		fc := newFrameChecker(senders, size)
		next := make([]uint64, senders)
		return readFrames(c, size, func(frames []byte) error {
			for f := frames; len(f) > 0; f = f[size:] {
				id, seq, _, err := fc.check(f[:size])
				if err != nil {
					return err
				}
				if seq != next[id] {
					return fmt.Errorf("sender %d: frame %d where %d was due: loss or reordering", id, seq, next[id])
				}
				next[id]++
			}
			m.add(int64(len(frames)/size), int64(len(frames)))
			return nil
		})
	}
}

// fanInContenders are the kinds, with overlap's actor senders after its
// goroutine senders.
func fanInContenders(kinds []string) []contender {
	var cs []contender
	for _, c := range kindContenders(kinds) {
		cs = append(cs, c)
		if c.Kind == "overlap" {
			cs = append(cs, contender{Label: "overlap actors", Kind: "overlap", Args: []string{"-actors"}})
		}
	}
	return cs
}

// runFanIn is the fan-in family (letter n).
func runFanIn(cfg config, _ string) (section, error) {
	sc := fanInScenario
	return fanInSection(cfg, sc.Name, sc.Senders, sc.Size)
}

func fanInSection(cfg config, name string, senders, size int) (section, error) {
	sec := section{
		Title: "Fan-in",
		Note: fmt.Sprintf("The client opens one connection; the server's %d senders (goroutines, or overlap actors) each send %d B frames "+
			"of a numbered stream of their own to it as fast as it takes them. The client checks every frame: whole, from a known sender, "+
			"each sender's in order (interleaving between senders is allowed). msgs/s counts frames; CPU is the server's per frame. "+
			"overlap's goroutines call Socket.Send; its actors send *actor.Send messages to the socket's PID (ctx.Send, and ctx.Request "+
			"on the last of each 16 for a Completion), run by the System's Dispatcher, and reuse their Send messages once completed, as they "+
			"reuse their frames; gnet's goroutines call AsyncWrite; net.Conn's call Write. "+
			"Each overlap and gnet sender keeps at most 32 frames in flight (gnet's AsyncWrite callback comes once the frame is "+
			"written or copied into its unbounded outbound buffer).", senders, size),
		Header: []string{"scenario", "server", "msgs/s", "MB/s", "server CPU µs/msg", "msgs/s vs net.Conn", "net.Conn CPU/msg ÷ this"},
	}
	args := []string{"-mode", "fanin", "-senders", strconv.Itoa(senders), "-size", strconv.Itoa(size)}
	cs := fanInContenders(cfg.Kinds)
	fig, err := runRounds(cfg, name, args, cs, func(srv *server) (echoResult, error) {
		return runPush(srv, 1, cfg.Warm, cfg.Measure, readFanIn(senders, size))
	})
	if err != nil {
		return sec, err
	}
	nc := fig["netconn"]
	for _, c := range cs {
		sec.Rows = append(sec.Rows, pushRow(name, c.Label, fig[c.Label], nc))
		if c.Kind == "overlap" {
			f := fig[c.Label]
			sec.Ratios = append(sec.Ratios,
				ratio{Label: "fan-in " + c.Label + " msgs/s vs net.Conn", paired: pairedRatio(f.rate, nc.rate), Target: 20},
				ratio{Label: "fan-in " + c.Label + " net.Conn CPU/msg ÷ overlap's", paired: pairedRatio(nc.cpu, f.cpu)},
				ratio{Label: "fan-in " + c.Label + " msgs/s vs gnet", paired: pairedRatio(f.rate, fig["gnet"].rate)},
			)
		}
	}
	return sec, nil
}
