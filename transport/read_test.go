package transport

import (
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/wsabuf"
)

// hoarder is a handler that keeps every received buffer until told to let
// go, counting the bytes.
type hoarder struct {
	mu    sync.Mutex
	held  []*wsabuf.Buf
	total int
	sock  chan *actor.Socket
}

func (h *hoarder) props() *protoactor.Props {
	return protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		switch m := ctx.Message().(type) {
		case *actor.Connected:
			h.sock <- m.Socket
		case *actor.Received:
			h.mu.Lock()
			h.held = append(h.held, m.Data)
			h.total += m.Data.Len()
			h.mu.Unlock()
		}
	})
}

func (h *hoarder) releaseAll() {
	h.mu.Lock()
	held := h.held
	h.held = nil
	h.mu.Unlock()
	for _, b := range held {
		b.Release()
	}
}

func (h *hoarder) received() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.total
}

// writeUntilBlocked writes 64 MiB, more than the kernel buffers hold, with a
// short write deadline; a server that stopped reading makes it time out.
func writeUntilBlocked(t *testing.T, peer interface {
	Write([]byte) (int, error)
	SetWriteDeadline(time.Time) error
}, block []byte) int {
	t.Helper()
	_ = peer.SetWriteDeadline(time.Now().Add(time.Second))
	n, err := peer.Write(block)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("peer wrote %d bytes with %v: the server kept reading", n, err)
	}
	return n
}

// Issue item 7: a handler that holds its received buffers bounds inbound
// memory at Options.MaxUnreleasedRead (plus one read); reading resumes when
// it releases them, and no byte is lost.
func TestReadPausesAtUnreleasedLimit(t *testing.T) {
	const limit = 256 << 10
	_, e := startEngine(t, Config{})
	h := &hoarder{sock: make(chan *actor.Socket, 1)}
	l, err := e.Listen("tcp", "127.0.0.1:0", h.props(), WithSocketOptions(actor.Options{MaxUnreleasedRead: limit}))
	if err != nil {
		t.Fatal(err)
	}
	peer := dialPeer(t, l)
	s := acceptSocket(t, h.sock)
	block := make([]byte, 64<<20)
	wrote := writeUntilBlocked(t, peer, block)
	if u := s.Unreleased(); u > limit+64<<10 {
		t.Fatalf("handler holds %d unreleased bytes, limit %d plus one read", u, limit)
	}
	// Write the rest while the handler keeps releasing: reading pauses and
	// resumes as it goes, and every byte arrives.
	_ = peer.SetWriteDeadline(time.Now().Add(testDeadline))
	werr := make(chan error, 1)
	go func() { _, err := peer.Write(block[wrote:]); werr <- err }()
	deadline := time.Now().Add(testDeadline)
	for h.received() < len(block) {
		if time.Now().After(deadline) {
			t.Fatalf("received %d of %d bytes", h.received(), len(block))
		}
		h.releaseAll()
		ov := &actor.Overlapped{}
		_ = s.Send(&actor.Send{Overlapped: ov}) // a round trip through the loop
		<-ov.Done()
		if u := s.Unreleased(); u > limit+64<<10 {
			t.Fatalf("handler holds %d unreleased bytes, limit %d plus one read", u, limit)
		}
	}
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
	h.releaseAll()
}

// Issue item 7: PauseRead stops reading (the peer's writes block) and
// ResumeRead restarts it without losing bytes.
func TestPauseAndResumeRead(t *testing.T) {
	_, e := startEngine(t, Config{})
	h := &hoarder{sock: make(chan *actor.Socket, 1)}
	l, err := e.Listen("tcp", "127.0.0.1:0", h.props())
	if err != nil {
		t.Fatal(err)
	}
	peer := dialPeer(t, l)
	s := acceptSocket(t, h.sock)
	if err := s.PauseRead(); err != nil {
		t.Fatal(err)
	}
	// Make sure the pause has been applied on the loop before writing.
	ov := &actor.Overlapped{}
	_ = s.Send(&actor.Send{Overlapped: ov})
	<-ov.Done()
	block := make([]byte, 64<<20)
	wrote := writeUntilBlocked(t, peer, block)
	before := h.received()
	if err := s.ResumeRead(); err != nil {
		t.Fatal(err)
	}
	_ = peer.SetWriteDeadline(time.Now().Add(testDeadline))
	rest, err := peer.Write(block[wrote:])
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(testDeadline)
	for h.received() < wrote+rest {
		if time.Now().After(deadline) {
			t.Fatalf("received %d of %d bytes (%d while paused)", h.received(), wrote+rest, before)
		}
		h.releaseAll()
		ov := &actor.Overlapped{}
		_ = s.Send(&actor.Send{Overlapped: ov})
		<-ov.Done()
	}
	h.releaseAll()
}
