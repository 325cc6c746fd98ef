package transport

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/wsabuf"
)

// A file region goes to a real TCP peer with sendfile, after the send's
// buffers, through a 4 KiB send buffer the kernel fills over and over: the
// peer reads every byte in order and the completion counts them all.
func TestTransmitFileOverTCP(t *testing.T) {
	const size = 1 << 20
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i*31 + i>>10)
	}
	path := filepath.Join(t.TempDir(), "body")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, _, s, peer := connectedPair(t, "tcp", "127.0.0.1:0", Config{}, WithSocketOptions(actor.Options{SendBuffer: 4096}))
	ov := new(actor.Overlapped)
	head := []byte("HTTP/1.1 200 OK\r\n\r\n")
	if err := s.Send(&actor.Send{Buffers: wsabuf.Buffers{head}, File: &actor.FileRegion{File: f, Offset: 100, Length: size - 200}, Overlapped: ov}); err != actor.ErrIOPending {
		t.Fatal(err)
	}
	_ = peer.SetReadDeadline(time.Now().Add(testDeadline))
	got := readN(t, peer, len(head)+size-200)
	if !bytes.Equal(got[:len(head)], head) || !bytes.Equal(got[len(head):], data[100:size-100]) {
		t.Fatal("the peer read other bytes than the head and the region")
	}
	select {
	case <-ov.Done():
	case <-time.After(testDeadline):
		t.Fatal("no completion")
	}
	if n, err, _ := ov.Result(); n != len(head)+size-200 || err != nil {
		t.Errorf("completion (%d, %v), want (%d, nil)", n, err, len(head)+size-200)
	}
}
