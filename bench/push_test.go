package main

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"
)

// tinyConfig runs each server once, briefly, with one event loop.
var tinyConfig = config{Kinds: []string{"overlap", "gnet", "netconn"}, Rounds: 1, Loops: 1,
	Warm: 50 * time.Millisecond, Measure: 200 * time.Millisecond, Quick: true}

// checkSection asserts that sec has a row for each of the contenders, with
// messages counted (the client checked every one of them).
func checkSection(t *testing.T, sec section, labels ...string) {
	t.Helper()
	if len(sec.Rows) != len(labels) {
		t.Fatalf("%d rows, want %d (%v)", len(sec.Rows), len(labels), labels)
	}
	for i, row := range sec.Rows {
		if row[1] != labels[i] {
			t.Errorf("row %d is %q, want %q", i, row[1], labels[i])
		}
		if row[2] == "0" {
			t.Errorf("%s: no messages", row[1])
		}
	}
}

// TestFanInFamily runs the fan-in servers, each in its own process, with
// the checking client: 4 senders, 64 B frames.
func TestFanInFamily(t *testing.T) {
	t.Parallel() // most of the time is servers starting and stopping
	sec, err := fanInSection(tinyConfig, "n: test", 4, 64)
	if err != nil {
		t.Fatal(err)
	}
	checkSection(t, sec, "overlap", "overlap actors", "gnet", "netconn")
}

// TestFanOutFamily runs the fan-out servers with 20 connections at 200
// broadcasts a second.
func TestFanOutFamily(t *testing.T) {
	t.Parallel() // most of the time is servers starting and stopping
	var sec section
	if err := fanOutScenario(tinyConfig, &sec, 20, 256, 200, 0); err != nil {
		t.Fatal(err)
	}
	checkSection(t, sec, "overlap", "gnet", "netconn")
}

// TestGatherFamily runs the gather servers with messages of 4 × 1 KiB.
func TestGatherFamily(t *testing.T) {
	t.Parallel() // most of the time is servers starting and stopping
	var sec section
	if err := gatherScenario(tinyConfig, &sec, "g: test", 4, 1<<10); err != nil {
		t.Fatal(err)
	}
	checkSection(t, sec, "overlap", "gnet", "net.Conn Write per segment", "net.Buffers")
}

// TestReadersCatchBadStreams: the families' clients fail on a torn frame,
// a frame out of its sender's order, a lost broadcast, and a segment out
// of its place.
func TestReadersCatchBadStreams(t *testing.T) {
	frame := func(id int, seq uint64) []byte {
		f := newFrame(id, 64)
		stamp(f, seq, 0)
		return f
	}
	cat := func(fs ...[]byte) []byte { return bytes.Join(fs, nil) }
	torn := cat(frame(0, 0)[:40], frame(1, 0)[:24])
	cases := []struct {
		name   string
		read   func(int, net.Conn, *meter) error
		stream []byte
		want   string
	}{
		{"fan-in torn frame", readFanIn(2, 64), cat(frame(0, 0), torn), "torn"},
		{"fan-in reordered", readFanIn(2, 64), cat(frame(0, 0), frame(1, 0), frame(0, 2)), "loss or reordering"},
		{"fan-in unknown sender", readFanIn(2, 64), frame(2, 0), "torn"},
		{"fan-out lost broadcast", readFanOut(64), cat(frame(0, 5), frame(0, 6), frame(0, 8)), "loss or reordering"},
		{"gather segment out of place", readGather(2, 64), cat(frame(0, 0), frame(1, 0), frame(1, 1)), "loss or reordering"},
		{"gather torn segment", readGather(2, 64), cat(frame(0, 0), torn), "torn"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			server, client := net.Pipe()
			defer client.Close()
			go func() {
				defer server.Close()
				_, _ = server.Write(c.stream)
			}()
			err := c.read(0, client, &meter{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error with %q", err, c.want)
			}
		})
	}
}
