package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/internal/leaktest"
	"github.com/overlapio/overlap/wsabuf"
)

// The fault suite (issue 5). Each test checks, for the fault it names:
// every send completes exactly once (streamLedger), the peer receives
// exactly the stream's bytes in order up to what it got (verified byte by
// byte), never more than the completions report and, where the connection
// ends gracefully, exactly that; no goroutine is left and the process's
// file descriptors return to where they started (leaktest.Check).

// streamByte is byte k of a socket's whole outgoing stream: every send
// carries the next bytes of it, so the peer can check order and content of
// any prefix it receives.
func streamByte(k int) byte { return byte(k*131 + k>>9) }

// streamLedger sends consecutive pieces of the stream with one Overlapped
// each and checks every completion at the end.
type streamLedger struct {
	off   int // the stream offset of the next send
	ovs   []*actor.Overlapped
	sizes []int
}

// send submits the next size bytes of the stream, as two segments.
func (l *streamLedger) send(s *actor.Socket, size int) error {
	b := make([]byte, size)
	for i := range b {
		b[i] = streamByte(l.off + i)
	}
	ov := &actor.Overlapped{}
	err := s.Send(&actor.Send{Buffers: wsabuf.Buffers{b[:size/3], b[size/3:]}, Overlapped: ov})
	if err == actor.ErrIOPending {
		l.off += size
		l.ovs = append(l.ovs, ov)
		l.sizes = append(l.sizes, size)
	}
	return err
}

// fill submits n sends of size bytes, all of which must be accepted.
func (l *streamLedger) fill(t testing.TB, s *actor.Socket, n, size int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if err := l.send(s, size); err != actor.ErrIOPending {
			t.Fatalf("send %d: %v", i, err)
		}
	}
}

// wait waits for every completion. It checks that a completion's count is
// within its send, that a successful send is whole, and that the sends
// that moved bytes form a prefix of the stream (a later send never sent
// while an earlier one failed short). It returns the bytes reported sent
// and the completions by error kind.
func (l *streamLedger) wait(t testing.TB) (sent int, kinds map[string]int) {
	t.Helper()
	kinds = map[string]int{}
	deadline := time.After(testDeadline)
	short := -1 // the first send that did not send all its bytes
	for i, ov := range l.ovs {
		select {
		case <-ov.Done():
		case <-deadline:
			t.Fatalf("send %d of %d never completed", i, len(l.ovs))
		}
		n, err, _ := ov.Result()
		switch {
		case n < 0 || n > l.sizes[i]:
			t.Fatalf("send %d reports %d of %d bytes", i, n, l.sizes[i])
		case err == nil && n != l.sizes[i]:
			t.Fatalf("send %d succeeded with %d of %d bytes", i, n, l.sizes[i])
		case short >= 0 && n > 0:
			t.Fatalf("send %d sent %d bytes after send %d stopped short: a hole in the stream", i, n, short)
		}
		if n < l.sizes[i] && short < 0 {
			short = i
		}
		sent += n
		if err != nil {
			kinds[kindOf(err)]++
		} else {
			kinds["ok"]++
		}
	}
	return sent, kinds
}

// verifyingDrain reads the peer until EOF or an error and checks every byte
// against the stream. It returns what it read and the first mismatch.
func verifyingDrain(peer net.Conn) chan drained {
	out := make(chan drained, 1)
	go func() {
		var d drained
		buf := make([]byte, 64<<10)
		for {
			n, err := peer.Read(buf)
			d.take(buf[:n])
			if err != nil {
				if !errors.Is(err, io.EOF) {
					d.err = err
				}
				out <- d
				return
			}
		}
	}()
	return out
}

// drained is what a verifyingDrain read.
type drained struct {
	n   int   // bytes read
	bad error // the first byte out of order or corrupt
	err error // the read error that ended it (nil for EOF)
}

// take checks the next bytes read against the stream and counts them.
func (d *drained) take(b []byte) {
	for i := 0; i < len(b) && d.bad == nil; i++ {
		if b[i] != streamByte(d.n+i) {
			d.bad = fmt.Errorf("byte %d is %#x, want %#x", d.n+i, b[i], streamByte(d.n+i))
		}
	}
	d.n += len(b)
}

// check asserts what a drain got: no corrupt byte, and sent bytes (exact)
// or a prefix of them.
func (d drained) check(t testing.TB, sent int, exact bool) {
	t.Helper()
	if d.bad != nil {
		t.Fatalf("the peer's stream is corrupt or out of order: %v", d.bad)
	}
	if d.n > sent {
		t.Fatalf("the peer received %d bytes, more than the %d reported sent", d.n, sent)
	}
	if exact && d.n != sent {
		t.Fatalf("the peer received %d bytes, the completions report %d", d.n, sent)
	}
}

func awaitDrain(t testing.TB, ch chan drained) drained {
	t.Helper()
	select {
	case d := <-ch:
		return d
	case <-time.After(testDeadline):
		t.Fatal("the peer's reader never ended")
		return drained{}
	}
}

// faultPair is connectedPair with limits high enough to queue thousands of
// sends, after leaktest.Check so that its check runs after every cleanup.
func faultPair(t *testing.T, network, addr string) (*actor.System, *Engine, *actor.Socket, net.Conn) {
	t.Helper()
	leaktest.Check(t)
	return connectedPair(t, network, addr, Config{Socket: actor.Options{MaxPendingBytes: 256 << 20, MaxPendingSends: 1 << 20}})
}

// The peer reads part of the stream, then resets the connection (SO_LINGER
// 0) with thousands of sends pending: each completes once, those after the
// reset with ErrConnReset or ErrOperationAborted, and the peer got an exact
// prefix of the stream, no more than reported sent.
func TestFaultPeerResetMidStream(t *testing.T) {
	_, _, s, peer := faultPair(t, "tcp", "127.0.0.1:0")
	var led streamLedger
	led.fill(t, s, 5000, 4096)
	var d drained
	buf := make([]byte, 64<<10)
	for d.n < 1<<20 { // a MiB in, mid-stream
		n, err := peer.Read(buf)
		d.take(buf[:n])
		if err != nil {
			t.Fatal(err)
		}
	}
	_ = peer.(*net.TCPConn).SetLinger(0)
	peer.Close()
	sent, kinds := led.wait(t)
	d.check(t, sent, false)
	if kinds["WSAECONNRESET"]+kinds["WSA_OPERATION_ABORTED"] == 0 {
		t.Fatalf("completions %v: none saw the reset", kinds)
	}
	for k := range kinds {
		if k != "ok" && k != "WSAECONNRESET" && k != "WSA_OPERATION_ABORTED" {
			t.Fatalf("unexpected completion error %q in %v", k, kinds)
		}
	}
}

// The peer half-closes its side and then reads nothing more, with sends
// pending. gnet closes a connection whose peer half-closes, so the pending
// sends end with an error; each completes once, and what the peer can still
// read afterwards is an exact prefix, no more than reported sent.
func TestFaultPeerHalfClosesThenIgnores(t *testing.T) {
	leaktest.Check(t)
	_, e := startEngine(t, Config{Socket: actor.Options{MaxPendingBytes: 256 << 20, MaxPendingSends: 1 << 20}})
	s, peer, closed := closingPair(t, e)
	var led streamLedger
	led.fill(t, s, 5000, 4096)
	if err := peer.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
	case <-time.After(testDeadline):
		t.Fatal("the socket did not see the peer's half-close")
	}
	sent, kinds := led.wait(t)
	if kinds["ok"] == len(led.ovs) {
		t.Fatalf("completions %v: all sent, though the peer stopped reading first", kinds)
	}
	d := awaitDrain(t, verifyingDrain(peer)) // what the kernel had taken is still readable
	d.check(t, sent, false)
}

// A local graceful close and an abortive one, each with 10,000 sends
// pending, on every stream network: graceful delivers every byte (exactly
// what the completions report); abortive completes the rest with
// ErrOperationAborted and the peer gets a prefix of no more than reported.
func TestFaultLocalClose(t *testing.T) {
	for _, abort := range []bool{false, true} {
		t.Run(map[bool]string{false: "graceful", true: "abortive"}[abort], func(t *testing.T) {
			onEveryNetwork(t, func(t *testing.T, network, addr string) {
				_, _, s, peer := faultPair(t, network, addr)
				var led streamLedger
				led.fill(t, s, 10000, 1024)
				got := verifyingDrain(peer)
				closeFn := s.Close
				if abort {
					closeFn = s.Abort
				}
				if err := closeFn(); err != nil {
					t.Fatal(err)
				}
				sent, kinds := led.wait(t)
				d := awaitDrain(t, got)
				if !abort {
					if kinds["ok"] != 10000 || sent != 10000*1024 {
						t.Fatalf("completions %v, %d bytes: want all 10,000 ok", kinds, sent)
					}
					d.check(t, sent, true)
					return
				}
				if kinds["WSA_OPERATION_ABORTED"] == 0 || kinds["ok"]+kinds["WSA_OPERATION_ABORTED"] != 10000 {
					t.Fatalf("completions %v", kinds)
				}
				d.check(t, sent, false)
			})
		})
	}
}

// manyPending opens conns connections whose peers do not read yet, with a
// small send buffer on each side so that sends of a few KiB stay pending,
// and fills each with sends. It returns the ledgers and the peers.
func manyPending(t *testing.T, e *Engine, conns, sends, size int) ([]*streamLedger, []net.Conn) {
	t.Helper()
	socks := make(chan *actor.Socket, conns)
	l, err := e.Listen("tcp", "127.0.0.1:0", socketsProps(socks), WithSocketOptions(actor.Options{SendBuffer: 4096, MaxPendingBytes: 1 << 20}))
	if err != nil {
		t.Fatal(err)
	}
	small := net.Dialer{Timeout: testDeadline, Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return errors.Join(err, serr)
	}}
	leds := make([]*streamLedger, conns)
	peers := make([]net.Conn, conns)
	for i := range peers {
		c, err := small.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		t.Cleanup(func() { c.Close() })
		_ = c.SetDeadline(time.Now().Add(2 * testDeadline))
		peers[i] = c
		leds[i] = &streamLedger{}
		leds[i].fill(t, acceptSocket(t, socks), sends, size)
	}
	return leds, peers
}

// stoppedByTest makes a System and an Engine of 2 loops whose stop is the
// test's to make (the System is stopped at cleanup too, if the test has
// not).
func stoppedByTest(t *testing.T) (*actor.System, *Engine) {
	t.Helper()
	sys := actor.NewSystem()
	t.Cleanup(sys.Stop)
	e, err := NewEngine(sys, Config{Loops: 2})
	if err != nil {
		t.Fatal(err)
	}
	return sys, e
}

// Engine stop with sends pending on 1,000 connections, while the peers
// read: Stop closes every socket gracefully, so every send completes ok and
// each peer receives exactly what its completions report.
func TestFaultEngineStopManyConnections(t *testing.T) {
	leaktest.Check(t)
	_, e := stoppedByTest(t)
	leds, peers := manyPending(t, e, 1000, 32, 1024)
	gots := make([]chan drained, len(peers))
	for i, p := range peers {
		gots[i] = verifyingDrain(p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	if err := e.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	for i, led := range leds {
		sent, kinds := led.wait(t)
		if kinds["ok"] != len(led.ovs) {
			t.Fatalf("connection %d: completions %v, want all ok", i, kinds)
		}
		awaitDrain(t, gots[i]).check(t, sent, true)
	}
}

// Engine stop past its deadline, and the actor system stopped under live
// sockets, each with sends pending on 1,000 connections whose peers do not
// read: every send completes once (ok or ErrOperationAborted), and each
// peer then reads an exact prefix of no more than reported sent.
func TestFaultAbruptStopManyConnections(t *testing.T) {
	for _, how := range []string{"engine deadline", "actor system"} {
		t.Run(how, func(t *testing.T) {
			leaktest.Check(t)
			sys, e := stoppedByTest(t)
			leds, peers := manyPending(t, e, 1000, 32, 1024)
			expired, cancel := context.WithCancel(context.Background())
			cancel() // no grace: Stop aborts what the kernel has not taken
			if how == "actor system" {
				sys.Stop()
			}
			if err := e.Stop(expired); err != nil && !errors.Is(err, context.Canceled) {
				t.Fatal(err)
			}
			aborted := 0
			for i, led := range leds {
				sent, kinds := led.wait(t)
				if kinds["ok"]+kinds["WSA_OPERATION_ABORTED"] != len(led.ovs) {
					t.Fatalf("connection %d: completions %v", i, kinds)
				}
				aborted += kinds["WSA_OPERATION_ABORTED"]
				awaitDrain(t, verifyingDrain(peers[i])).check(t, sent, false)
			}
			if aborted == 0 {
				t.Fatal("nothing was aborted: the sends were not pending")
			}
		})
	}
}

// The socket's actor stops (its owner stopped it) or its handler panics,
// with thousands of sends pending. A stop cancels them: each completes once,
// those not written with ErrOperationAborted. A panic is the supervisor's to
// handle (protoactor restarts the actor by default, and the connection
// stays): each send still completes once, and once the peer reads, the
// stream arrives whole and in order.
func TestFaultActorStopsOrPanics(t *testing.T) {
	for _, how := range []string{"stops", "panics"} {
		t.Run(how, func(t *testing.T) {
			leaktest.Check(t)
			sys, e := startEngine(t, Config{Socket: actor.Options{MaxPendingBytes: 256 << 20, MaxPendingSends: 1 << 20}})
			socks := make(chan *actor.Socket, 1)
			panicked := make(chan struct{}, 1)
			l, err := e.Listen("tcp", "127.0.0.1:0", socketsProps(socks, func(ctx protoactor.Context) {
				if _, ok := ctx.Message().(*poke); ok {
					panicked <- struct{}{}
					panic("handler failure")
				}
			}))
			if err != nil {
				t.Fatal(err)
			}
			peer := dialPeer(t, l)
			s := acceptSocket(t, socks)
			var led streamLedger
			led.fill(t, s, 5000, 4096)
			if how == "stops" {
				sys.Actors.Root.Stop(s.PID())
			} else {
				sys.Actors.Root.Send(s.PID(), &poke{})
				<-panicked
			}
			got := verifyingDrain(peer)
			sent, kinds := led.wait(t)
			if kinds["ok"]+kinds["WSA_OPERATION_ABORTED"] != len(led.ovs) {
				t.Fatalf("completions %v", kinds)
			}
			if how == "stops" && kinds["WSA_OPERATION_ABORTED"] == 0 {
				t.Fatalf("completions %v: the stop cancelled nothing", kinds)
			}
			_ = s.Close() // ErrNotSock if the stop closed it already
			awaitDrain(t, got).check(t, sent, kinds["ok"] == len(led.ovs))
		})
	}
}

// poke makes the test handler panic.
type poke struct{}

// A peer that never reads: the socket's pending bytes stay within its
// MaxPendingBytes (sends past it are refused at once with ErrWouldBlock,
// each completed), and other sockets on the same loops keep echoing.
func TestFaultStalledPeerIsContained(t *testing.T) {
	leaktest.Check(t)
	const limit = 1 << 20
	_, e := startEngine(t, Config{Loops: 1, Socket: actor.Options{MaxPendingBytes: limit}})
	socks := make(chan *actor.Socket, 1)
	stalledL, err := e.Listen("tcp", "127.0.0.1:0", socketsProps(socks))
	if err != nil {
		t.Fatal(err)
	}
	echoL, err := e.Listen("tcp", "127.0.0.1:0", echoProps())
	if err != nil {
		t.Fatal(err)
	}
	stalledPeer := dialPeer(t, stalledL)
	s := acceptSocket(t, socks)
	var led streamLedger
	refused := 0
	for i := 0; i < 4000; i++ { // 16 MiB offered to a socket allowed 1 MiB pending
		switch err := led.send(s, 4096); {
		case errors.Is(err, actor.ErrWouldBlock):
			refused++
		case err != actor.ErrIOPending:
			t.Fatalf("send %d: %v", i, err)
		}
		if _, pb := s.Pending(); pb > limit {
			t.Fatalf("%d bytes pending, over the %d limit", pb, limit)
		}
	}
	if refused == 0 {
		t.Fatal("no send was refused: the peer's window took 16 MiB")
	}

	// Other connections on the same loop keep their service.
	var wg sync.WaitGroup
	for c := 0; c < 8; c++ {
		peer := dialPeer(t, echoL)
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := bytes.Repeat([]byte{byte(c)}, 512)
			for i := 0; i < 200; i++ {
				if _, err := peer.Write(msg); err != nil {
					t.Error(err)
					return
				}
				got := make([]byte, len(msg))
				if _, err := io.ReadFull(peer, got); err != nil || !bytes.Equal(got, msg) {
					t.Errorf("echo %d on connection %d: %v", i, c, err)
					return
				}
			}
		}()
	}
	wg.Wait()

	// Everything accepted is delivered once the peer reads.
	got := verifyingDrain(stalledPeer)
	sent, kinds := led.wait(t)
	if kinds["ok"] != len(led.ovs) {
		t.Fatalf("completions %v", kinds)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	awaitDrain(t, got).check(t, sent, true)
}

// 10,000 connections opened and closed as fast as the machine allows, a
// quarter at a time in flight: each echoes a message; half are closed by
// the client, half aborted by the server. Nothing is left: no socket in the
// system, no goroutine, no descriptor.
func TestFaultConnectionChurn(t *testing.T) {
	leaktest.Check(t)
	const total, inFlight = 10000, 64
	sys, e := startEngine(t, Config{})
	// A socket's actor gets Stopped once protoactor has taken it out of the
	// registry, so total of them mean every socket has left the system.
	stopped := make(chan struct{}, total)
	l, err := e.Listen("tcp", "127.0.0.1:0", protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		switch m := ctx.Message().(type) {
		case *actor.Received:
			_ = m.Socket.Send(&actor.Send{Buffers: wsabuf.Buffers{m.Data.Bytes()}, Hold: m.Data})
			if m.Data.Bytes()[0] == 'a' {
				_ = m.Socket.Close() // the server ends this one, after the echo
			}
		case *protoactor.Stopped:
			stopped <- struct{}{}
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	sem := make(chan struct{}, inFlight)
	errs := make(chan error, total)
	var wg sync.WaitGroup
	for i := 0; i < total; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			c, err := net.DialTimeout("tcp", l.Addr().String(), testDeadline)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(testDeadline))
			msg := []byte(fmt.Sprintf("%c%d", "ab"[i%2], i))
			if _, err := c.Write(msg); err != nil {
				errs <- err
				return
			}
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
				errs <- fmt.Errorf("connection %d: echo %q, %v", i, got, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Every socket leaves the system once its connection is gone.
	deadline := time.After(testDeadline)
	for i := 0; i < total; i++ {
		select {
		case <-stopped:
		case <-deadline:
			t.Fatalf("%d of %d sockets stopped after every connection closed; %d still registered", i, total, sys.Sockets())
		}
	}
	if n := sys.Sockets(); n != 0 {
		t.Fatalf("%d sockets still registered after all %d stopped", n, total)
	}
}
