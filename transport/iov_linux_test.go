package transport

import (
	"bytes"
	"io"
	"os"
	"testing"

	"golang.org/x/sys/unix"
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
	if int(v[0].Len) > stageSize {
		t.Fatalf("the staged run holds %d bytes, more than the %d staged", v[0].Len, stageSize)
	}
	if got := writevAll(t, &iv, segs); !bytes.Equal(got, want) {
		t.Fatalf("the peer read %d bytes, not the %d written in order", len(got), len(want))
	}
}
