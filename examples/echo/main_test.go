package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/overlapio/overlap/internal/leaktest"
	"github.com/overlapio/overlap/internal/serve"
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

// The server echoes pipelined payloads of many sizes from several clients.
func TestEchoServer(t *testing.T) {
	srv := serve.ForTest(t, func(ctx context.Context) (*serve.Listening, error) { return Start(ctx, "127.0.0.1:0", 2) })
	for client := 0; client < 4; client++ {
		c, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(20 * time.Second))
		var want bytes.Buffer
		for i, size := range []int{1, 100, 4096, 65536, 300000} {
			p := bytes.Repeat([]byte{byte('a' + i + client)}, size)
			want.Write(p)
		}
		errc := make(chan error, 1)
		go func() { _, err := c.Write(want.Bytes()); errc <- err }()
		got := make([]byte, want.Len())
		if _, err := io.ReadFull(c, got); err != nil {
			t.Fatal(err)
		}
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("client %d: echo differs from what was sent", client)
		}
		c.Close()
	}
}

// A client that writes 16 MiB as fast as it can while reading the echo
// makes the server's sends wait on a full socket, often past the high
// watermark (reading then pauses; without that, sends past the pending
// limit were refused and the echo lost bytes). The reads waiting sends hold
// were lent by the event loop, which reuses its buffer meanwhile, so each
// waiting echo must have a copy of its own. Every byte differs from its
// neighbours, so a reused buffer shows.
func TestEchoOfSlowReader(t *testing.T) {
	srv := serve.ForTest(t, func(ctx context.Context) (*serve.Listening, error) { return Start(ctx, "127.0.0.1:0", 1) })
	c, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	want := make([]byte, 16<<20)
	for i := range want {
		want[i] = byte(i*7 + i/251)
	}
	errc := make(chan error, 1)
	go func() { _, err := c.Write(want); errc <- err }()
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("echo differs from what was sent")
	}
}
