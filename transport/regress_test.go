package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/wsabuf"
)

// Engine.Stop returns once its sockets close, even when a connection is
// accepted while it waits (that one is closed too), instead of waiting for
// its context to end.
func TestStopWithConnectionArrivingDuringStop(t *testing.T) {
	sys := actor.NewSystem()
	defer sys.Stop()
	e, err := NewEngine(sys, Config{Loops: 2, Socket: actor.Options{Linger: 300 * time.Millisecond, MaxPendingBytes: 64 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	socks := make(chan *actor.Socket, 4)
	l, err := e.Listen("tcp", "127.0.0.1:0", socketsProps(socks))
	if err != nil {
		t.Fatal(err)
	}
	_ = dialPeer(t, l) // never reads: the graceful close waits for Linger
	s := acceptSocket(t, socks)
	_ = s.Send(&actor.Send{Buffers: wsabuf.Buffers{make([]byte, 32<<20)}})
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	stopped := make(chan error, 1)
	start := time.Now()
	go func() { stopped <- e.Stop(ctx) }()
	if c, err := net.Dial("tcp", l.Addr().String()); err == nil {
		defer c.Close()
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Stop: %v after %v", err, time.Since(start))
	}
}

// A close that comes before a MSG_PARTIAL message's last piece aborts the
// pieces (nothing is sent) and closes at once, not after Linger.
func TestPartialMessageCutByClose(t *testing.T) {
	_, e := startEngine(t, Config{Socket: actor.Options{Linger: time.Minute}})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	closed := make(chan struct{})
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	s, err := e.Dial(ctx, "udp", pc.LocalAddr().String(), protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		if _, ok := ctx.Message().(*actor.Closed); ok {
			close(closed)
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	piece := &actor.Overlapped{}
	_ = s.Send(&actor.Send{Buffers: wsabuf.Buffers{[]byte("piece")}, Flags: actor.MsgPartial, Overlapped: piece})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := piece.Wait(ctx); !errors.Is(err, actor.ErrOperationAborted) || n != 0 {
		t.Fatalf("the unfinished message's piece: %d, %v", n, err)
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for Linger behind an unfinished datagram")
	}
}

// Close on a UDP listener's socket delivers Closed; datagrams after it are
// dropped, not delivered.
func TestCloseUDPListenerSocket(t *testing.T) {
	_, e := startEngine(t, Config{})
	events := make(chan any, 16)
	l, err := e.Listen("udp", "127.0.0.1:0", protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		switch m := ctx.Message().(type) {
		case *actor.Received:
			m.Data.Release()
			events <- "received"
		case *actor.Closed:
			events <- "closed"
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Socket().Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-events:
		if ev != "closed" {
			t.Fatalf("first event %v, want closed", ev)
		}
	case <-time.After(testDeadline):
		t.Fatal("Close on a UDP listener's socket never delivered Closed")
	}
	c, err := net.Dial("udp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = c.Write([]byte("late"))
	if err := l.Socket().Send(&actor.Send{Buffers: wsabuf.Buffers{[]byte("x")}}); !errors.Is(err, actor.ErrNotSock) && !errors.Is(err, actor.ErrNotConn) {
		t.Fatalf("send after close: %v", err)
	}
	select {
	case ev := <-events:
		t.Fatalf("event %v after Closed", ev)
	default:
	}
}

// Clause 6 with a large urgent send: only its last byte is urgent, so the
// rest arrives in the stream whole and in order even when the send is
// written in several parts.
func TestLargeOOBStaysContiguous(t *testing.T) {
	_, _, s, peer := connectedPair(t, "tcp", "127.0.0.1:0", Config{Socket: actor.Options{MaxPendingBytes: 64 << 20}})
	data := make([]byte, 8<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	ov := &actor.Overlapped{}
	_ = s.Send(&actor.Send{Buffers: wsabuf.Buffers{data}, Flags: actor.MsgOOB, Overlapped: ov})
	inband := make([]byte, len(data)-1)
	if _, err := io.ReadFull(peer, inband); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(inband, data[:len(data)-1]) {
		t.Fatal("the in-band bytes of an urgent send are not the send's bytes in order")
	}
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	if n, err := ov.Wait(ctx); err != nil || n != len(data) {
		t.Fatalf("completion %d, %v", n, err)
	}
	oob, n, rerr := recvOOB(peer)
	if rerr != nil || n != 1 || oob[0] != data[len(data)-1] {
		t.Fatalf("urgent byte %v, %v; want the send's last byte", oob[:n], rerr)
	}
}

// A local graceful close of a TCP socket reports no error: its Closed.Err
// is nil (a nil error, not a typed nil *OpError from the bridge's reason),
// on a real connection as on the actor package's fake one.
func TestGracefulCloseReportsNoError(t *testing.T) {
	_, e := startEngine(t, Config{})
	s, peer, closed := closingPair(t, e)
	defer peer.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Closed.Err = %#v after a graceful local close, want nil", err)
		}
	case <-time.After(testDeadline):
		t.Fatal("no Closed after Close")
	}
}
