package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/overlapio/overlap/internal/leaktest"
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

// The port behaves as the sample: one "Wrote 4096 bytes" per send, ten of
// them, and the client reads and checks all 40,960 bytes, then sees the
// connection closed.
func TestSampleServesOneClient(t *testing.T) {
	var out bytes.Buffer
	addrs := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Serve(context.Background(), "127.0.0.1:0", func(a string) { addrs <- a }, &out)
	}()
	var addr string
	select {
	case addr = <-addrs:
	case err := <-done:
		t.Fatalf("server ended before listening: %v", err)
	}
	if err := Client(addr); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server did not finish")
	}
	want := strings.Repeat("Wrote 4096 bytes\n", SEND_COUNT)
	if out.String() != want {
		t.Fatalf("server printed %q, want %q", out.String(), want)
	}
}

// Stopped (SIGINT) before a client comes, the server returns nil: exit 0.
func TestSampleStopsBeforeAClient(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, "127.0.0.1:0", func(string) { cancel() }, new(bytes.Buffer))
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server did not stop")
	}
}
