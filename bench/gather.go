package main

import (
	"context"
	"fmt"
	"net"
	"strconv"

	protoactor "github.com/asynkron/protoactor-go/actor"
	"github.com/panjf2000/gnet/v2"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/wsabuf"
)

// The gather servers (-mode gather): on each connection, one goroutine
// sends messages of -segs segments of -size bytes, as fast as the
// connection takes them. Segment j of message m is a frame of stream j
// numbered m.
//
//	overlap: one Socket.Send of the whole array a message, up to
//	         gatherWindow messages in flight, each with its Overlapped.
//	gnet:    one AsyncWritev a message, paced the same way by its callback.
//	netconn: -write segments: a Write per segment; -write buffers:
//	         net.Buffers.WriteTo, Go's writev, a message at a time.
//
// Messages in flight are the system's until they complete, so overlap and
// gnet stamp each into its own slot of a ring of gatherWindow messages.
const gatherWindow = 16

// gatherScenarios are the gather family's scenarios.
var gatherScenarios = []struct {
	Name       string
	Segs, Size int
}{
	{"g: 16 × 64 B", 16, 64},
	{"g: 64 × 1 KiB", 64, 1 << 10},
}

// message is a gather message of segs frames of size bytes.
func message(segs, size int) [][]byte {
	msg := make([][]byte, segs)
	for j := range msg {
		msg[j] = newFrame(j, size)
	}
	return msg
}

// stampMessage numbers every segment of msg seq.
func stampMessage(msg [][]byte, seq uint64) {
	for _, f := range msg {
		stamp(f, seq, 0)
	}
}

// messageRing is gatherWindow messages.
func messageRing(segs, size int) [][][]byte {
	ring := make([][][]byte, gatherWindow)
	for i := range ring {
		ring[i] = message(segs, size)
	}
	return ring
}

func gatherServers(m serverMode) (modeServers, error) {
	var write func(c net.Conn, msg [][]byte) error
	switch m.Write {
	case "segments":
		write = func(c net.Conn, msg [][]byte) error {
			for _, seg := range msg {
				if _, err := c.Write(seg); err != nil {
					return err
				}
			}
			return nil
		}
	case "buffers":
		var scratch [][]byte
		write = func(c net.Conn, msg [][]byte) error {
			// WriteTo consumes its receiver in place: give it a copy of
			// the headers each time.
			scratch = append(scratch[:0], msg...)
			nb := net.Buffers(scratch)
			_, err := nb.WriteTo(c)
			return err
		}
	default:
		return modeServers{}, fmt.Errorf("unknown -write %q (want segments or buffers)", m.Write)
	}
	return modeServers{
		overlap: protoactor.PropsFromFunc(func(ctx protoactor.Context) {
			if c, ok := ctx.Message().(*actor.Connected); ok {
				go gatherOverlap(c.Socket, messageRing(m.Segs, m.Size))
			}
		}),
		gnet: &gnetGather{segs: m.Segs, size: m.Size},
		netconn: func(c net.Conn) {
			msg := message(m.Segs, m.Size)
			for seq := uint64(0); ; seq++ {
				stampMessage(msg, seq)
				if write(c, msg) != nil {
					return
				}
			}
		},
	}, nil
}

// gatherOverlap sends ring's messages in turn, each as one overlapped
// gather send, reusing a slot once its send has completed.
func gatherOverlap(sock *actor.Socket, ring [][][]byte) {
	var ovs [gatherWindow]actor.Overlapped
	var m actor.Send // Socket.Send copies it and the array
	for i := 0; ; i++ {
		ov := &ovs[i%gatherWindow]
		if i >= gatherWindow {
			if _, err := ov.Wait(context.Background()); err != nil {
				return
			}
		}
		msg := ring[i%gatherWindow]
		stampMessage(msg, uint64(i))
		m = actor.Send{Buffers: wsabuf.Buffers(msg), Overlapped: ov}
		if err := sock.Send(&m); err != actor.ErrIOPending {
			return
		}
	}
}

// gnetGather starts a sender on each connection when it opens.
type gnetGather struct {
	gnetBoot
	segs, size int
}

func (h *gnetGather) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	go gnetGatherSender(c, messageRing(h.segs, h.size))
	return nil, gnet.None
}

// gnetGatherSender is gatherOverlap on gnet: one AsyncWritev a message,
// its callback freeing the slot (callbacks run in order on the loop).
func gnetGatherSender(c gnet.Conn, ring [][][]byte) {
	done := make(chan error, gatherWindow)
	var hdrs [gatherWindow][][]byte // each slot's array as gnet gets it
	callback := func(_ gnet.Conn, err error) error {
		done <- err
		return nil
	}
	for i := 0; ; i++ {
		if i >= gatherWindow {
			if err := <-done; err != nil {
				return
			}
		}
		msg := ring[i%gatherWindow]
		stampMessage(msg, uint64(i))
		// gnet's writev consumes the array it is given in place (what
		// it wrote is cut off the segments): give it a copy of the headers.
		hdrs[i%gatherWindow] = append(hdrs[i%gatherWindow][:0], msg...)
		if err := c.AsyncWritev(hdrs[i%gatherWindow], callback); err != nil {
			return
		}
	}
}

// readGather checks one gather connection: message after message, each
// segment whole and in its place.
func readGather(segs, size int) func(int, net.Conn, *meter) error {
	return func(_ int, c net.Conn, m *meter) error {
		fc := newFrameChecker(segs, size)
		var seq uint64
		j := 0
		return readFrames(c, size, func(frames []byte) error {
			msgs := 0
			for f := frames; len(f) > 0; f = f[size:] {
				id, s, _, err := fc.check(f[:size])
				if err != nil {
					return err
				}
				if id != j || s != seq {
					return fmt.Errorf("segment %d of message %d where segment %d of %d was due: loss or reordering", id, s, j, seq)
				}
				if j++; j == segs {
					j, seq = 0, seq+1
					msgs++
				}
			}
			m.add(int64(msgs), int64(msgs*segs*size))
			return nil
		})
	}
}

// gatherContenders are the kinds, with net.Conn twice: a Write per segment
// and net.Buffers.
func gatherContenders(kinds []string) []contender {
	var cs []contender
	for _, c := range kindContenders(kinds) {
		if c.Kind == "netconn" {
			cs = append(cs,
				contender{Label: "net.Conn Write per segment", Kind: "netconn", Args: []string{"-write", "segments"}},
				contender{Label: "net.Buffers", Kind: "netconn", Args: []string{"-write", "buffers"}})
			continue
		}
		cs = append(cs, c)
	}
	return cs
}

// runGather is the gather family (letter g).
func runGather(cfg config, _ string) (section, error) {
	sec := section{
		Title: "Gather",
		Note: "The client opens one connection; the server sends it messages of many segments as fast as it takes them. " +
			"A msg is one whole array. The client checks every segment: whole, in its place, in its message's turn. " +
			"overlap and raw gnet keep up to 16 messages in flight (gnet's AsyncWritev callback comes once its writev is done or " +
			"copied into its unbounded outbound buffer: once the kernel's buffer is full, gnet copies every message, and its " +
			"senders are not paced by delivery); net.Conn writes one message at a time.",
		Header: []string{"scenario", "server", "msgs/s", "MB/s", "server CPU µs/msg", "msgs/s vs net.Buffers", "net.Buffers CPU/msg ÷ this"},
	}
	for _, sc := range gatherScenarios {
		if err := gatherScenario(cfg, &sec, sc.Name, sc.Segs, sc.Size); err != nil {
			return sec, err
		}
	}
	return sec, nil
}

// gatherScenario runs one gather scenario and adds its rows and ratios to sec.
func gatherScenario(cfg config, sec *section, name string, segs, size int) error {
	args := []string{"-mode", "gather", "-segs", strconv.Itoa(segs), "-size", strconv.Itoa(size)}
	cs := gatherContenders(cfg.Kinds)
	fig, err := runRounds(cfg, name, args, cs, func(srv *server) (echoResult, error) {
		return runPush(srv, 1, cfg.Warm, cfg.Measure, readGather(segs, size))
	})
	if err != nil {
		return err
	}
	nb, seg := fig["net.Buffers"], fig["net.Conn Write per segment"]
	for _, c := range cs {
		sec.Rows = append(sec.Rows, pushRow(name, c.Label, fig[c.Label], nb))
	}
	if o := fig["overlap"]; o != nil {
		id := "gather " + name[3:]
		sec.Ratios = append(sec.Ratios,
			ratio{Label: id + " msgs/s vs net.Buffers", paired: pairedRatio(o.rate, nb.rate), Target: 1},
			ratio{Label: id + " msgs/s vs Write per segment", paired: pairedRatio(o.rate, seg.rate), Target: 3},
			ratio{Label: id + " net.Buffers CPU/msg ÷ overlap's", paired: pairedRatio(nb.cpu, o.cpu)},
		)
	}
	return nil
}
