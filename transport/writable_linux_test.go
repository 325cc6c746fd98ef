package transport

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/internal/goroutines"
	"github.com/overlapio/overlap/internal/leaktest"
	"github.com/overlapio/overlap/wsabuf"
)

// The watcher's goroutine waits on Go's netpoller ("IO wait"), not in a
// blocking epoll_wait ("syscall"): parked, it holds no thread and gives the
// runtime no processor to take back. stop ends it.
func TestWatcherWaitsInTheNetpoller(t *testing.T) {
	leaktest.Check(t) // the goroutine and the epoll descriptor, after stop
	w, err := newWatcher()
	if err != nil {
		t.Fatal(err)
	}
	defer w.stop()
	deadline := time.Now().Add(10 * time.Second)
	for !goroutines.In("(*watcher).run", "IO wait") {
		select {
		case <-w.done:
			t.Fatalf("the watcher's goroutine ended before stop: %v", w.broken)
		default:
		}
		if goroutines.In("(*watcher).run", "syscall") || time.Now().After(deadline) {
			t.Fatal("the watcher's goroutine is not in \"IO wait\" (in \"syscall\", or not waiting at all)")
		}
		runtime.Gosched() // it has not reached its wait yet
	}
}

// A watcher whose wait fails other than by stop wakes the connections
// waiting on it, and says why to every later arm: a socket whose buffer is
// still full then fails (ErrConnAborted) rather than wait for a Writable
// that would never come. After stop, arm fails too.
func TestWatcherFailureFailsArm(t *testing.T) {
	w, err := newWatcher()
	if err != nil {
		t.Fatal(err)
	}
	defer w.stop()
	woken := make(chan *gconn, 1)
	w.notify = func(c *gconn) { woken <- c }
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	// Fill fds[0]'s buffer, so that its Writable can only come from the
	// failure.
	if err := unix.SetNonblock(fds[0], true); err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := unix.Write(fds[0], chunk); err == unix.EAGAIN {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	waiting := &gconn{fd: int32(fds[0])}
	if err := w.arm(waiting); err != nil {
		t.Fatal(err)
	}
	_ = w.ep.Close() // not through stop: as if the epoll instance had failed
	select {
	case <-w.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the watcher's goroutine did not end when its epoll instance closed")
	}
	select {
	case c := <-woken:
		if c != waiting {
			t.Fatalf("woke %p, want the waiting connection %p", c, waiting)
		}
	default: // fail wakes them before run returns, so before done closes
		t.Fatal("the connection waiting when the watcher failed was not woken")
	}
	err = w.arm(&gconn{fd: int32(fds[1])})
	if !errors.Is(err, actor.ErrConnAborted) || !strings.Contains(err.Error(), "watcher failed") {
		t.Fatalf("arm after the watcher failed: %v, want ErrConnAborted and its failure", err)
	}
	w.stop()
	if err := w.arm(&gconn{fd: int32(fds[1])}); !errors.Is(err, actor.ErrConnAborted) {
		t.Fatalf("arm after stop: %v, want ErrConnAborted", err)
	}
}

// After stop, arm fails with ErrConnAborted and says the engine has
// stopped, and makes no epoll_ctl on the closed (perhaps reused) descriptor;
// forget does nothing.
func TestWatcherArmAfterStop(t *testing.T) {
	w, err := newWatcher()
	if err != nil {
		t.Fatal(err)
	}
	w.stop()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	c := &gconn{fd: int32(fds[0])}
	err = w.arm(c)
	if !errors.Is(err, actor.ErrConnAborted) || !strings.Contains(err.Error(), "has stopped") {
		t.Fatalf("arm after stop: %v, want ErrConnAborted, the engine has stopped", err)
	}
	if err := w.ctl(unix.EPOLL_CTL_DEL, c.fd, nil); err != errWatcherStopped {
		t.Fatalf("epoll_ctl after stop: %v, want errWatcherStopped", err)
	}
	w.forget(c)
}

// End to end on a real socket: a send stalled on a full socket buffer, and
// waiting on the watcher, completes with ErrConnAborted when the watcher
// fails, instead of waiting for a Writable that will never come, and so
// does the send queued behind it, with 0 bytes; the engine still stops.
func TestWatcherFailureFailsStalledSend(t *testing.T) {
	_, e, sock, peer := connectedPair(t, "tcp", "127.0.0.1:0", Config{Loops: 1},
		WithSocketOptions(actor.Options{MaxPendingBytes: 64 << 20})) // room for the send behind
	defer peer.Close() // it never reads: the socket's buffer fills
	ov, behind := &actor.Overlapped{}, &actor.Overlapped{}
	payload := make([]byte, 32<<20) // more than loopback's buffers take
	for _, m := range []*actor.Send{{Buffers: wsabuf.Buffers{payload}, Overlapped: ov}, {Buffers: wsabuf.Buffers{payload[:1024]}, Overlapped: behind}} {
		if err := sock.Send(m); err != nil && err != actor.ErrIOPending {
			t.Fatal(err)
		}
	}
	// Wait, with a deadline, until the socket waits on the watcher.
	deadline := time.Now().Add(testDeadline)
	for {
		e.watch.mu.Lock()
		waiting := len(e.watch.conns)
		e.watch.mu.Unlock()
		if waiting == 1 {
			break
		}
		if !ov.Pending() || time.Now().After(deadline) {
			t.Fatalf("the send never waited on the watcher (pending %v)", ov.Pending())
		}
		runtime.Gosched()
	}
	_ = e.watch.ep.Close() // not through stop: as if the epoll instance had failed
	select {
	case <-ov.Done():
	case <-time.After(testDeadline):
		t.Fatal("the stalled send did not complete when the watcher failed")
	}
	n, err, _ := ov.Result()
	if !errors.Is(err, actor.ErrConnAborted) || n >= len(payload) {
		t.Fatalf("completion (%d of %d bytes, %v), want fewer bytes and ErrConnAborted", n, len(payload), err)
	}
	select {
	case <-behind.Done():
	case <-time.After(testDeadline):
		t.Fatal("the send queued behind it did not complete")
	}
	if n, err, _ := behind.Result(); n != 0 || !errors.Is(err, actor.ErrConnAborted) {
		t.Errorf("the send behind: (%d, %v), want (0, ErrConnAborted)", n, err)
	}
}
