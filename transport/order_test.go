package transport

import (
	"encoding/binary"
	"io"
	"sync"
	"testing"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/wsabuf"
)

// frame is [sender uint16][seq uint32][len uint16][payload], so the peer can
// check that every frame is contiguous and each sender's frames are in order.
func frame(sender, seq int) [][]byte {
	hdr := make([]byte, 8)
	size := 1 + (sender*7+seq*13)%200
	binary.BigEndian.PutUint16(hdr[0:], uint16(sender))
	binary.BigEndian.PutUint32(hdr[2:], uint32(seq))
	binary.BigEndian.PutUint16(hdr[6:], uint16(size))
	body := make([]byte, size)
	for i := range body {
		body[i] = byte(sender + seq + i)
	}
	// Two segments: the header and the body, a gather send.
	return [][]byte{hdr, body}
}

// checkFrames reads frames until want frames arrived and fails on a torn frame
// or a sender's frames out of order.
func checkFrames(t *testing.T, r io.Reader, senders, perSender int) {
	t.Helper()
	next := make([]int, senders)
	hdr := make([]byte, 8)
	for got := 0; got < senders*perSender; got++ {
		if _, err := io.ReadFull(r, hdr); err != nil {
			t.Fatalf("after %d frames: %v", got, err)
		}
		sender := int(binary.BigEndian.Uint16(hdr[0:]))
		seq := int(binary.BigEndian.Uint32(hdr[2:]))
		size := int(binary.BigEndian.Uint16(hdr[6:]))
		if sender >= senders || seq != next[sender] {
			t.Fatalf("frame %d: sender %d seq %d, want seq %d: frames reordered or torn", got, sender, seq, next[sender])
		}
		next[sender]++
		body := make([]byte, size)
		if _, err := io.ReadFull(r, body); err != nil {
			t.Fatal(err)
		}
		for i, b := range body {
			if b != byte(sender+seq+i) {
				t.Fatalf("frame %d of sender %d: byte %d corrupt: another send interleaved", seq, sender, i)
			}
		}
	}
}

// Clause 21 and issue item 3: 64 goroutines and 64 actors send framed
// messages to one socket at once; a plain net.Conn peer finds every frame
// contiguous and every sender's frames in its order.
func TestOrderUnderContention(t *testing.T) {
	onEveryNetwork(t, func(t *testing.T, network, addr string) {
		sys, e := startEngine(t, Config{})
		socks := make(chan *actor.Socket, 1)
		l, err := e.Listen(network, addr, socketsProps(socks))
		if err != nil {
			t.Fatal(err)
		}
		peer := dialPeer(t, l)
		sock := acceptSocket(t, socks)

		const goroutines, actors, perSender = 64, 64, 200
		done := make(chan struct{})
		go func() { defer close(done); checkFrames(t, peer, goroutines+actors, perSender) }()

		var wg sync.WaitGroup
		for g := 0; g < goroutines; g++ {
			wg.Add(1)
			go func(sender int) {
				defer wg.Done()
				for seq := 0; seq < perSender; seq++ {
					sendRetry(t, sock, &actor.Send{Buffers: frame(sender, seq)})
				}
			}(g)
		}
		// Actors send with ctx.Send to the socket's PID; each gets a start message.
		for a := 0; a < actors; a++ {
			sender := goroutines + a
			wg.Add(1)
			pid := sys.Actors.Root.Spawn(protoactor.PropsFromFunc(func(ctx protoactor.Context) {
				if _, ok := ctx.Message().(string); ok {
					for seq := 0; seq < perSender; seq++ {
						ctx.Send(sock.PID(), &actor.Send{Buffers: frame(sender, seq)})
					}
					wg.Done()
				}
			}))
			sys.Actors.Root.Send(pid, "go")
		}
		wg.Wait()
		<-done
	})
}

// sendRetry submits m, retrying while the socket's limits push back.
func sendRetry(t testing.TB, s *actor.Socket, m *actor.Send) {
	for {
		err := s.Send(m)
		if err == actor.ErrIOPending {
			return
		}
		if err != actor.ErrWouldBlock {
			t.Errorf("send: %v", err)
			return
		}
		ov := &actor.Overlapped{}
		// Wait for room by sending an empty marker and waiting on it.
		if s.Send(&actor.Send{Buffers: wsabuf.Buffers{}, Overlapped: ov}) == actor.ErrIOPending {
			<-ov.Done()
		}
	}
}
