package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/overlapio/overlap/internal/leaktest"
	"github.com/overlapio/overlap/internal/serve"
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

// startChat runs a server on 127.0.0.1:0 for the test; it is stopped (as
// by SIGINT) and must exit cleanly when the test ends.
func startChat(t *testing.T, maxQueued int) *Server {
	t.Helper()
	return serve.ForTest(t, func(ctx context.Context) (*Server, error) { return Start(ctx, "127.0.0.1:0", maxQueued) })
}

type peer struct {
	net.Conn
	r *bufio.Reader
}

// dial connects a client and waits until it is in the lobby.
func dial(t *testing.T, srv *Server) *peer {
	t.Helper()
	c, err := net.DialTimeout("tcp", srv.Addr(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(2 * time.Minute)) // a 1,000-client test under -race on a loaded 2-core machine runs close to a minute
	p := &peer{Conn: c, r: bufio.NewReader(c)}
	p.expect(t, "* joined lobby")
	return p
}

func (p *peer) say(t *testing.T, lines ...string) {
	t.Helper()
	if _, err := io.WriteString(p, strings.Join(lines, "\n")+"\n"); err != nil {
		t.Fatal(err)
	}
}

func (p *peer) expect(t *testing.T, want string) {
	t.Helper()
	got, err := p.r.ReadString('\n')
	if err != nil || got != want+"\n" {
		t.Fatalf("got %q (%v), want %q", got, err, want)
	}
}

// Nicknames, rooms and /quit, with nc-style clients (telnet's \r\n too).
func TestChatRoomsAndCommands(t *testing.T) {
	srv := startChat(t, 256<<10)
	ann, bob, cat := dial(t, srv), dial(t, srv), dial(t, srv)
	ann.say(t, "/nick ann", "hello")
	bob.expect(t, "ann: hello")
	cat.expect(t, "ann: hello")

	bob.say(t, "/nick bob", "hi all\r") // telnet ends lines with \r\n
	ann.expect(t, "bob: hi all")
	cat.expect(t, "bob: hi all")

	cat.say(t, "/nick cat", "/join cellar")
	cat.expect(t, "* joined cellar")
	bob.say(t, "/join cellar")
	bob.expect(t, "* joined cellar")
	bob.say(t, "down here")
	cat.expect(t, "bob: down here")
	ann.say(t, "anyone?") // ann is alone in the lobby now: nobody hears it
	cat.say(t, "yes")
	bob.expect(t, "cat: yes")

	ann.say(t, "/join cellar")
	ann.expect(t, "* joined cellar")
	ann.say(t, "back")
	bob.expect(t, "ann: back")
	cat.expect(t, "ann: back")

	bob.say(t, "/quit")
	if _, err := bob.r.ReadString('\n'); err != io.EOF {
		t.Fatalf("after /quit: %v, want EOF", err)
	}
	cat.say(t, "bye bob")
	ann.expect(t, "cat: bye bob")
}

// 1,000 clients chat in one room while one never reads: that one is
// disconnected once its queue passes the limit, and everyone else still
// gets every line, in order, without anyone waiting for it.
func TestChatSlowClientIsDropped(t *testing.T) {
	const (
		clients = 1000
		talkers = 10
	)
	srv := startChat(t, 16<<10)
	slow := dial(t, srv)
	_ = slow.Conn.(*net.TCPConn).SetReadBuffer(4 << 10)
	peers := make([]*peer, clients)
	for i := range peers {
		peers[i] = dial(t, srv) // in the lobby when it returns
		peers[i].say(t, fmt.Sprintf("/nick p%d", i))
	}

	// Each reader checks that it gets every talker's lines, in order, up to
	// the talker's "done".
	line := strings.Repeat("x", 200)
	type result struct {
		peer int
		seen []int
		err  error
	}
	results := make(chan result, clients)
	progress := make(chan struct{}, 1) // a listener has heard a whole round
	for i := range peers {
		go func(i int) {
			next, done := make([]int, talkers), 0
			for done < talkers-boolInt(i < talkers) {
				s, err := peers[i].r.ReadString('\n')
				if err != nil {
					results <- result{i, next, err}
					return
				}
				var who, seq int
				switch {
				case strings.HasSuffix(s, ": done\n"):
					done++
				default:
					if _, err := fmt.Sscanf(s, "p%d: %d "+line+"\n", &who, &seq); err != nil || who >= talkers || seq != next[who] {
						results <- result{i, next, fmt.Errorf("line %q out of order", s)}
						return
					}
					next[who]++
					if i == talkers && who == talkers-1 {
						progress <- struct{}{}
					}
				}
			}
			results <- result{i, next, nil}
		}(i)
	}
	// Talk a round at a time, each heard by a listener before the next,
	// until the server drops the client that never reads.
	rounds := 0
	for ; srv.Dropped() == 0 && rounds < 500; rounds++ {
		for w := 0; w < talkers; w++ {
			peers[w].say(t, fmt.Sprintf("%d %s", rounds, line))
		}
		select {
		case <-progress:
		case r := <-results:
			t.Fatalf("peer %d: %v", r.peer, r.err)
		case <-time.After(30 * time.Second):
			t.Fatalf("round %d not heard", rounds)
		}
	}
	t.Logf("dropped after %d rounds of %d lines of %d bytes", rounds, talkers, len(line)+6)
	if srv.Dropped() != 1 {
		t.Fatalf("after %d rounds, %d clients dropped, want the one that never reads", rounds, srv.Dropped())
	}
	for w := 0; w < talkers; w++ {
		peers[w].say(t, "done")
	}
	for range peers {
		r := <-results
		if r.err != nil {
			t.Fatalf("peer %d: %v", r.peer, r.err)
		}
		for w, n := range r.seen {
			if w != r.peer && n != rounds {
				t.Fatalf("peer %d heard %d of talker %d's %d lines", r.peer, n, w, rounds)
			}
		}
	}
	// The dropped client's connection ends (reset, or EOF after what was
	// buffered) rather than idling until the deadline.
	_ = slow.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.Copy(io.Discard, slow); err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("the slow client's connection was never closed")
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
