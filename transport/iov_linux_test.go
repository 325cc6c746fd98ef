package transport

import (
	"bytes"
	"io"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/overlapio/overlap/wsabuf"
)

// segsOf makes segments of the given sizes, each byte numbered in stream
// order, and returns them with their concatenation.
func segsOf(sizes ...int) ([][]byte, []byte) {
	var all []byte
	segs := make([][]byte, len(sizes))
	for i, n := range sizes {
		segs[i] = make([]byte, n)
		for j := range segs[i] {
			segs[i][j] = byte(len(all) + j*7 + i)
		}
		all = append(all, segs[i]...)
	}
	return segs, all
}

// writevAll writes segs through iv to a socket pair and returns what the
// other end read.
func writevAll(t *testing.T, iv *iovecs, segs [][]byte) []byte {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	w, r := os.NewFile(uintptr(fds[0]), "w"), os.NewFile(uintptr(fds[1]), "r")
	defer r.Close()
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(r)
		got <- b
	}()
	total := 0
	for _, s := range segs {
		total += len(s)
	}
	// The blocking descriptor takes it all; a short count would be a bug here.
	n, err := iv.writev(int(w.Fd()), segs)
	if err != nil || n != total {
		t.Fatalf("writev = %d, %v; want %d", n, err, total)
	}
	w.Close()
	return <-got
}

// Runs of small segments are staged into one iovec; lone small segments,
// large ones and empty ones are not; the bytes arrive in order either way.
func TestIovecsStageSmallRuns(t *testing.T) {
	var iv iovecs
	segs, want := segsOf(10, 20, 600, 5, 0, 7, 8, 1000, 3)
	v, size := iv.fill(segs)
	// (10 20) 600 (5 7 8) 1000 3
	if len(v) != 5 || size != len(want) {
		t.Fatalf("fill made %d iovecs of %d bytes, want 5 of %d", len(v), size, len(want))
	}
	for i, n := range []int{30, 600, 20, 1000, 3} {
		if int(v[i].Len) != n {
			t.Fatalf("iovec %d holds %d bytes, want %d", i, v[i].Len, n)
		}
	}
	if got := writevAll(t, &iv, segs); !bytes.Equal(got, want) {
		t.Fatalf("the peer read %d bytes, not the %d written in order", len(got), len(want))
	}
}

// More small bytes than the staging buffer holds: the rest go as iovecs of
// their own, still in order.
func TestIovecsStageOverflow(t *testing.T) {
	var iv iovecs
	sizes := make([]int, 1024)
	for i := range sizes {
		sizes[i] = 100 + i%50
	}
	segs, want := segsOf(sizes...)
	v, size := iv.fill(segs)
	if size != len(want) || len(v) < 2 || len(v) > len(segs) {
		t.Fatalf("fill made %d iovecs of %d bytes, want a staged run then single ones, %d bytes", len(v), size, len(want))
	}
	staged, stagedLen := 0, 0 // the segments that fit the staging buffer, in order
	for _, n := range sizes {
		if stagedLen+n > stageSize {
			break
		}
		staged, stagedLen = staged+1, stagedLen+n
	}
	if int(v[0].Len) != stagedLen || len(v) != 1+len(sizes)-staged {
		t.Fatalf("fill made a staged run of %d bytes and %d iovecs; want the first %d segments staged (%d bytes) and %d iovecs",
			v[0].Len, len(v), staged, stagedLen, 1+len(sizes)-staged)
	}
	if got := writevAll(t, &iv, segs); !bytes.Equal(got, want) {
		t.Fatalf("the peer read %d bytes, not the %d written in order", len(got), len(want))
	}
}

// Short writes land anywhere, inside a staged run too: a non-blocking
// socket with a small send buffer takes part of each writev, the rest is
// written again from where the count says, and the peer reads every byte in
// order. (A partial write counts the bytes of bufs, whatever was staged.)
func TestIovecsShortWritesInsideStagedRuns(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.SetsockoptInt(fds[0], unix.SOL_SOCKET, unix.SO_SNDBUF, 4096); err != nil {
		t.Fatal(err)
	}
	w := fds[0]
	r := os.NewFile(uintptr(fds[1]), "r")
	defer r.Close()
	if err := unix.SetNonblock(fds[1], false); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(r)
		got <- b
	}()
	sizes := make([]int, 3000)
	for i := range sizes {
		sizes[i] = 1 + i*37%200 // small: nearly all staged, in runs longer than the buffer takes
		if i%97 == 0 {
			sizes[i] = 700 // now and then one of its own
		}
	}
	segs, want := segsOf(sizes...)
	var iv iovecs
	shorts := 0
	for rest := wsabuf.Buffers(segs); len(rest) > 0; {
		n, err := iv.writev(w, rest[:min(len(rest), 1024)])
		if err == unix.EAGAIN {
			pfd := []unix.PollFd{{Fd: int32(w), Events: unix.POLLOUT}}
			if _, err := unix.Poll(pfd, int(testDeadline.Milliseconds())); err != nil || pfd[0].Revents&unix.POLLOUT == 0 {
				t.Fatalf("the socket did not become writable: %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if n < rest[:min(len(rest), 1024)].Len() {
			shorts++
		}
		rest.Consume(n)
	}
	unix.Close(w)
	if b := <-got; !bytes.Equal(b, want) {
		t.Fatalf("the peer read %d bytes, not the %d written in order", len(b), len(want))
	}
	if shorts == 0 {
		t.Fatal("no writev came back short: the test did not test short writes")
	}
}
