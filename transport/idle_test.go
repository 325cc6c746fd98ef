package transport

import (
	"net"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/overlapio/overlap/internal/echo"
)

// idleHeapBound is the most heap an idle echo connection may hold, gnet's
// own share (about 360 bytes) and protoactor's (PID, context and registry
// slot, about 270) included. It measured 1,375 bytes when written,
// steady to a few bytes across runs and under -race; the margin is less
// than one size-class step of the socket's 640-byte object, so that step,
// a goroutine per connection or a new per-socket allocation fails it. The
// bench's idle scenario (go run ./bench -scenarios i) asks for at most
// 1.5 KB of RSS per connection at 10,000 connections: the heap plus the
// collector's headroom.
const idleHeapBound = 1475

// An idle connection holds no goroutine and a bounded amount of heap. The
// peers are raw sockets, so that the heap measured is the server's.
func TestIdleSocketMemory(t *testing.T) {
	const n = 1000
	sys, e := startEngine(t, Config{Loops: 2})
	l, err := e.Listen("tcp", "127.0.0.1:0", echo.Props(), WithSocketOptions(echo.Options))
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	var fds []int
	t.Cleanup(func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	})
	// open connects a raw peer and waits for the echo of one byte, so the
	// server has accepted it and its handler has run.
	open := func() {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		fds = append(fds, fd)
		tv := unix.NsecToTimeval(testDeadline.Nanoseconds())
		if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
			t.Fatal(err)
		}
		if err := unix.Connect(fd, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
			t.Fatal(err)
		}
		b := []byte{'x'}
		if _, err := unix.Write(fd, b); err != nil {
			t.Fatal(err)
		}
		if m, err := unix.Read(fd, b); m != 1 || err != nil {
			t.Fatalf("no echo: %d bytes, %v", m, err)
		}
	}
	open() // the first connection of each loop sets up what all share
	open()
	before, goroutines := liveHeap(), runtime.NumGoroutine()
	for i := 0; i < n; i++ {
		open()
	}
	after := liveHeap()
	perConn := float64(after-before) / n
	t.Logf("%d idle connections: %.0f bytes of heap each, %d goroutines more", n, perConn, runtime.NumGoroutine()-goroutines)
	if perConn > idleHeapBound {
		t.Errorf("an idle connection holds %.0f bytes of heap, want at most %d", perConn, idleHeapBound)
	}
	if more := runtime.NumGoroutine() - goroutines; more >= n/10 {
		t.Errorf("%d more goroutines with %d idle connections: an idle connection must have none", more, n)
	}
	if got := sys.Sockets(); got != n+2 {
		t.Errorf("%d sockets open, want %d", got, n+2)
	}
}

// liveHeap collects garbage and returns the bytes of live heap objects.
func liveHeap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC() // a second cycle frees what the first one's finalizers let go
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
