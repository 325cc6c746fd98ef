package transport

import (
	"bytes"
	"errors"
	"io"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/internal/testfile"
	"github.com/overlapio/overlap/wsabuf"
)

// A file region goes to a real TCP peer with sendfile, after the send's
// buffers, through a 4 KiB send buffer: the peer starts reading only once
// sendfile has met a full socket (EAGAIN), then reads every byte in order,
// and the completion counts them all.
func TestTransmitFileOverTCP(t *testing.T) {
	const size = 1 << 20
	data := lendPattern(size)
	f := testfile.Open(t, data)
	full := make(chan struct{})
	var calls, fulls atomic.Int32
	testHookSendFile = func(_ int, err error) {
		calls.Add(1)
		if errors.Is(err, syscall.EAGAIN) && fulls.Add(1) == 1 {
			close(full)
		}
	}
	t.Cleanup(func() { testHookSendFile = nil })
	_, _, s, peer := connectedPair(t, "tcp", "127.0.0.1:0", Config{}, WithSocketOptions(actor.Options{SendBuffer: 4096}))
	ov := new(actor.Overlapped)
	head := []byte("HTTP/1.1 200 OK\r\n\r\n")
	if err := s.Send(&actor.Send{Buffers: wsabuf.Buffers{head}, File: &actor.FileRegion{File: f, Offset: 100, Length: size - 200}, Overlapped: ov}); err != actor.ErrIOPending {
		t.Fatal(err)
	}
	select {
	case <-full:
	case <-time.After(testDeadline):
		t.Fatal("sendfile never met a full socket buffer")
	}
	_ = peer.SetReadDeadline(time.Now().Add(testDeadline))
	got := readN(t, peer, len(head)+size-200)
	if !bytes.Equal(got[:len(head)], head) || !bytes.Equal(got[len(head):], data[100:size-100]) {
		t.Fatal("the peer read other bytes than the head and the region")
	}
	if n, err := waitResult(t, ov); n != len(head)+size-200 || err != nil {
		t.Errorf("completion (%d, %v), want (%d, nil)", n, err, len(head)+size-200)
	}
	if calls.Load() < 2 {
		t.Errorf("%d sendfile calls, want the region in several", calls.Load())
	}
}

// The real kernel's sendfile reports a file's end as 0 with no error: a
// region longer than its file sends what the file has, then fails with
// ErrConnAborted and resets the connection rather than leave a hole.
func TestTransmitFilePastTheEndOverTCP(t *testing.T) {
	data := lendPattern(10_000)
	f := testfile.Open(t, data)
	_, _, s, peer := connectedPair(t, "tcp", "127.0.0.1:0", Config{})
	ov := new(actor.Overlapped)
	if err := s.Send(&actor.Send{File: &actor.FileRegion{File: f, Length: 20_000}, Overlapped: ov}); err != actor.ErrIOPending {
		t.Fatal(err)
	}
	n, err := waitResult(t, ov)
	if n != len(data) || !errors.Is(err, actor.ErrConnAborted) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("completion (%d, %v), want (%d, ErrConnAborted from io.ErrUnexpectedEOF)", n, err, len(data))
	}
	_ = peer.SetReadDeadline(time.Now().Add(testDeadline))
	got, rerr := io.ReadAll(peer)
	if !bytes.Equal(got, data) {
		t.Errorf("the peer read %d bytes, want the file's %d", len(got), len(data))
	}
	if !errors.Is(rerr, syscall.ECONNRESET) {
		t.Errorf("the peer's read ended with %v, want a reset", rerr)
	}
}
