package transport

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/wsabuf"
)

// ledger submits sends with one Overlapped each and checks, at the end, that
// every one completed exactly once. A second completion of an Overlapped
// would panic (its channel is closed once), so "exactly" is enforced too.
type ledger struct {
	ovs   []*actor.Overlapped
	sizes []int
}

func (l *ledger) send(t testing.TB, s *actor.Socket, payload []byte) error {
	ov := &actor.Overlapped{}
	err := s.Send(&actor.Send{Buffers: wsabuf.Buffers{payload[:len(payload)/2], payload[len(payload)/2:]}, Overlapped: ov})
	l.ovs = append(l.ovs, ov)
	l.sizes = append(l.sizes, len(payload))
	return err
}

// wait waits for every completion and returns the bytes reported sent and
// the errors seen.
func (l *ledger) wait(t testing.TB) (sent int, errs map[string]int) {
	t.Helper()
	errs = map[string]int{}
	deadline := time.After(testDeadline)
	for i, ov := range l.ovs {
		select {
		case <-ov.Done():
		case <-deadline:
			t.Fatalf("send %d of %d never completed", i, len(l.ovs))
		}
		n, err, done := ov.Result()
		if !done {
			t.Fatalf("send %d: Done closed but no result", i)
		}
		if n < 0 || n > l.sizes[i] {
			t.Fatalf("send %d reports %d bytes of %d", i, n, l.sizes[i])
		}
		if err == nil && n != l.sizes[i] {
			t.Fatalf("send %d succeeded with %d of %d bytes", i, n, l.sizes[i])
		}
		sent += n
		if err != nil {
			errs[kindOf(err)]++
		} else {
			errs["ok"]++
		}
	}
	return sent, errs
}

func kindOf(err error) string {
	if k := actor.Classify(err); k != nil {
		return k.Name
	}
	return err.Error()
}

// networks are the stream networks every contract test runs on.
func networks(t *testing.T) []struct{ network, addr string } {
	return []struct{ network, addr string }{
		{"tcp", "127.0.0.1:0"},
		{"tcp6", "[::1]:0"},
		{"unix", t.TempDir() + "/s.sock"},
	}
}

// onEveryNetwork runs fn as a subtest per stream network.
func onEveryNetwork(t *testing.T, fn func(t *testing.T, network, addr string)) {
	for _, n := range networks(t) {
		t.Run(n.network, func(t *testing.T) { fn(t, n.network, n.addr) })
	}
}

// pendingSetup is a listener whose socket has a peer that does not read yet,
// with limits high enough to queue thousands of sends.
func pendingSetup(t *testing.T) (*actor.System, *Engine, *actor.Socket, net.Conn) {
	return pendingSetupOn(t, "tcp", "127.0.0.1:0")
}

func pendingSetupOn(t *testing.T, network, addr string) (*actor.System, *Engine, *actor.Socket, net.Conn) {
	return connectedPair(t, network, addr, Config{Socket: actor.Options{MaxPendingBytes: 256 << 20, MaxPendingSends: 1 << 20}})
}

// fill submits n sends of size bytes; the peer is not reading, so most stay
// pending.
func fill(t *testing.T, led *ledger, s *actor.Socket, n, size int) {
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(i)
	}
	for i := 0; i < n; i++ {
		if err := led.send(t, s, payload); err != actor.ErrIOPending {
			t.Fatalf("send %d: %v", i, err)
		}
	}
}

// drain reads everything the peer gets until EOF or error.
func drain(peer net.Conn) chan int {
	got := make(chan int, 1)
	go func() {
		n, _ := io.Copy(io.Discard, peer)
		got <- int(n)
	}()
	return got
}

// Issue item 2: normal completion; the byte counts add up to what the peer
// received.
func TestExactlyOnceNormal(t *testing.T) {
	onEveryNetwork(t, func(t *testing.T, network, addr string) {
		_, _, s, peer := pendingSetupOn(t, network, addr)
		var led ledger
		got := drain(peer)
		fill(t, &led, s, 5000, 1024)
		sent, errs := led.wait(t)
		if errs["ok"] != 5000 {
			t.Fatalf("completions %v, want 5000 ok", errs)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if r := <-got; r != sent {
			t.Fatalf("peer received %d bytes, completions report %d", r, sent)
		}
	})
}

// Issue item 2 and clause 19: the peer resets the connection with thousands
// of sends pending. Each completes once; failures carry ErrConnReset (which
// matches syscall.ECONNRESET) or ErrOperationAborted.
func TestExactlyOncePeerReset(t *testing.T) {
	_, _, s, peer := pendingSetup(t)
	var led ledger
	fill(t, &led, s, 5000, 4096)
	peer.(*net.TCPConn).SetLinger(0)
	peer.Close()
	_, errs := led.wait(t)
	if errs["WSAECONNRESET"]+errs["WSA_OPERATION_ABORTED"] == 0 {
		t.Fatalf("completions %v: none saw the reset", errs)
	}
	for k := range errs {
		if k != "ok" && k != "WSAECONNRESET" && k != "WSA_OPERATION_ABORTED" {
			t.Fatalf("unexpected completion error %q in %v", k, errs)
		}
	}
	for _, ov := range led.ovs {
		if _, err, _ := ov.Result(); err != nil && actor.Classify(err) == actor.ErrConnReset && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("%v does not match syscall.ECONNRESET", err)
		}
	}
}

// Issue item 6 and clause 14: a graceful close with thousands of sends
// pending delivers every byte of every send before the connection closes.
func TestExactlyOnceGracefulClose(t *testing.T) {
	onEveryNetwork(t, func(t *testing.T, network, addr string) {
		_, _, s, peer := pendingSetupOn(t, network, addr)
		var led ledger
		fill(t, &led, s, 10000, 1024)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.Send(&actor.Send{Buffers: wsabuf.Buffers{[]byte("late")}}); !errors.Is(err, actor.ErrNotSock) {
			t.Fatalf("send after Close: %v, want ErrNotSock", err)
		}
		got := drain(peer)
		sent, errs := led.wait(t)
		if errs["ok"] != 10000 {
			t.Fatalf("completions %v, want all ok", errs)
		}
		if r := <-got; r != sent || sent != 10000*1024 {
			t.Fatalf("peer received %d bytes, completions report %d", r, sent)
		}
	})
}

// Issue item 6 and clause 14: an abortive close completes pending sends with
// ErrOperationAborted and the bytes they did send.
func TestExactlyOnceAbortiveClose(t *testing.T) {
	onEveryNetwork(t, func(t *testing.T, network, addr string) {
		_, _, s, peer := pendingSetupOn(t, network, addr)
		var led ledger
		fill(t, &led, s, 10000, 1024)
		got := drain(peer)
		if err := s.Abort(); err != nil {
			t.Fatal(err)
		}
		sent, errs := led.wait(t)
		if errs["WSA_OPERATION_ABORTED"] == 0 || errs["ok"]+errs["WSA_OPERATION_ABORTED"] != 10000 {
			t.Fatalf("completions %v", errs)
		}
		if r := <-got; r > sent {
			t.Fatalf("peer received %d bytes, more than the %d reported sent", r, sent)
		}
	})
}

// Issue item 2: engine stop with sends pending on many connections: each
// completes exactly once (Stop closes gracefully, so all are delivered).
func TestExactlyOnceEngineStop(t *testing.T) {
	sys := actor.NewSystem()
	defer sys.Stop()
	e, err := NewEngine(sys, Config{Loops: 2, Socket: actor.Options{MaxPendingBytes: 64 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	socks := make(chan *actor.Socket, 100)
	l, err := e.Listen("tcp", "127.0.0.1:0", socketsProps(socks))
	if err != nil {
		t.Fatal(err)
	}
	const conns = 50
	var led ledger
	var received []chan int
	for i := 0; i < conns; i++ {
		peer := dialPeer(t, l)
		s := acceptSocket(t, socks)
		fill(t, &led, s, 200, 1024)
		received = append(received, drain(peer))
	}
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	if err := e.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	sent, errs := led.wait(t)
	total := 0
	for _, ch := range received {
		total += <-ch
	}
	if errs["ok"] != conns*200 || total != sent {
		t.Fatalf("completions %v; peer got %d bytes, reported %d", errs, total, sent)
	}
}

// Clause 14: an owner actor that stops cancels its pending sends; the socket
// actor is a child of the actor that dialed it.
func TestExactlyOnceActorStop(t *testing.T) {
	onEveryNetwork(t, func(t *testing.T, network, addr string) {
		sys, _, s, peer := pendingSetupOn(t, network, addr)
		var led ledger
		fill(t, &led, s, 5000, 4096)
		sys.Actors.Root.Stop(s.PID())
		sent, errs := led.wait(t)
		if errs["WSA_OPERATION_ABORTED"] == 0 {
			t.Fatalf("completions %v: nothing was aborted", errs)
		}
		if err := s.Send(&actor.Send{Buffers: wsabuf.Buffers{[]byte("x")}}); !errors.Is(err, actor.ErrNotSock) {
			t.Fatalf("send after the actor stopped: %v, want ErrNotSock", err)
		}
		if r := <-drain(peer); r > sent {
			t.Fatalf("peer received %d bytes, more than the %d reported", r, sent)
		}
	})
}

// Clause 18: a Send to a PID that is not (or no longer) a socket actor
// completes with ErrNotSock instead of vanishing as a dead letter.
func TestSendToNonSocket(t *testing.T) {
	sys, _ := startEngine(t, Config{})
	done := make(chan *actor.Completion, 1)
	collector := sys.Actors.Root.Spawn(protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		if c, ok := ctx.Message().(*actor.Completion); ok {
			done <- c
		}
	}))
	gone := sys.Actors.Root.Spawn(protoactor.PropsFromFunc(func(protoactor.Context) {}))
	if err := sys.Actors.Root.StopFuture(gone).Wait(); err != nil {
		t.Fatal(err)
	}
	sys.Actors.Root.Send(gone, &actor.Send{Buffers: wsabuf.Buffers{[]byte("x")}, ReplyTo: collector})
	select {
	case c := <-done:
		if !errors.Is(c.Err, actor.ErrNotSock) {
			t.Fatalf("completion error %v, want ErrNotSock", c.Err)
		}
	case <-time.After(testDeadline):
		t.Fatal("no completion for a send to a stopped actor")
	}
	if err := sys.Send(collector, &actor.Send{Buffers: wsabuf.Buffers{[]byte("x")}}); !errors.Is(err, actor.ErrNotSock) {
		t.Fatalf("System.Send to a non-socket actor: %v, want ErrNotSock", err)
	}
}

// Issue item 2 and clause 13: Shutdown with thousands of sends pending sends
// every one of them, then half-closes (the peer reads them all, then EOF);
// a send after it fails with ErrShutdown and nothing of it is sent.
func TestExactlyOnceShutdown(t *testing.T) {
	onEveryNetwork(t, func(t *testing.T, network, addr string) {
		_, _, s, peer := pendingSetupOn(t, network, addr)
		var led ledger
		fill(t, &led, s, 5000, 1024)
		if err := s.Shutdown(); err != nil {
			t.Fatal(err)
		}
		late := &actor.Overlapped{}
		if err := s.Send(&actor.Send{Buffers: wsabuf.Buffers{[]byte("late")}, Overlapped: late}); !errors.Is(err, actor.ErrShutdown) {
			t.Fatalf("send after Shutdown: %v, want ErrShutdown", err)
		}
		got := drain(peer) // io.Copy ends at the half-close's EOF
		sent, errs := led.wait(t)
		if errs["ok"] != 5000 {
			t.Fatalf("completions %v", errs)
		}
		if r := <-got; r != sent || sent != 5000*1024 {
			t.Fatalf("peer read %d bytes before EOF, completions report %d", r, sent)
		}
		if _, err, done := late.Result(); !done || !errors.Is(err, actor.ErrShutdown) {
			t.Fatalf("the refused send's completion: %v (done %v)", err, done)
		}
	})
}

// Issue item 2 and clause 14 (SIO_FLUSH): with thousands of sends queued
// behind a peer that does not read, Flush aborts those not started; the one
// partly written finishes, and what the peer reads equals what the
// completions report.
func TestExactlyOnceFlush(t *testing.T) {
	onEveryNetwork(t, func(t *testing.T, network, addr string) {
		_, _, s, peer := pendingSetupOn(t, network, addr)
		var led ledger
		fill(t, &led, s, 20000, 1024)
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
		got := drain(peer)
		sent, errs := led.wait(t)
		if errs["WSA_OPERATION_ABORTED"] == 0 || errs["ok"]+errs["WSA_OPERATION_ABORTED"] != 20000 {
			t.Fatalf("completions %v", errs)
		}
		for i, ov := range led.ovs {
			if n, err, _ := ov.Result(); err != nil && n != 0 {
				t.Fatalf("flushed send %d reports %d bytes: a started send was cut", i, n)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if r := <-got; r != sent {
			t.Fatalf("peer read %d bytes, completions report %d", r, sent)
		}
	})
}
