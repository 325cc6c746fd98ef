package wsabuf

import (
	"bytes"
	"testing"
)

func seq(n int, start byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

func TestConsumeAdvancesWithoutCopying(t *testing.T) {
	a, b, c := seq(3, 0), seq(4, 10), seq(5, 20)
	bufs := Buffers{a, b, c}
	want := bufs.Flatten()

	bufs.Consume(2) // into the first segment
	if got := bufs.Flatten(); !bytes.Equal(got, want[2:]) {
		t.Fatalf("after 2: %v, want %v", got, want[2:])
	}
	if &bufs[0][0] != &a[2] {
		t.Fatal("Consume copied the partly written segment instead of reslicing it")
	}
	bufs.Consume(5) // rest of a and all of b
	if len(bufs) != 1 || &bufs[0][0] != &c[0] {
		t.Fatalf("after 7: %d segments, want the untouched third", len(bufs))
	}
	bufs.Consume(5)
	if bufs.Len() != 0 || len(bufs) != 0 {
		t.Fatalf("after all: %d bytes in %d segments", bufs.Len(), len(bufs))
	}
}

func TestConsumeDropsEmptySegments(t *testing.T) {
	bufs := Buffers{seq(2, 0), nil, {}, seq(1, 9)}
	bufs.Consume(2)
	if len(bufs) != 1 || bufs[0][0] != 9 {
		t.Fatalf("got %v, want the last segment only", bufs)
	}
}

// Every segment Consume drops, written or empty, leaves the caller's array:
// an empty slice can still pin the array it was cut from.
func TestConsumeClearsDroppedSlots(t *testing.T) {
	big := seq(8, 0)
	bufs := Buffers{seq(2, 0), big[8:], big[:0], seq(1, 9)}
	arr := bufs
	bufs.Consume(2)
	if len(bufs) != 1 {
		t.Fatalf("%d segments left, want 1", len(bufs))
	}
	for i, s := range arr[:3] {
		if s != nil {
			t.Fatalf("slot %d still holds a dropped segment", i)
		}
	}
	bufs = Buffers{big[:0], seq(1, 9)}
	arr = bufs
	bufs.Consume(0)
	if arr[0] != nil || len(bufs) != 1 {
		t.Fatal("Consume(0) kept a leading empty segment's slot")
	}
}

func TestConsumePastEndPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Consume past the end did not panic")
		}
	}()
	bufs := Buffers{seq(2, 0)}
	bufs.Consume(3)
}

func TestSkipLeavesOriginalIntact(t *testing.T) {
	orig := Buffers{seq(3, 0), seq(3, 3)}
	want := orig.Flatten()
	got := orig.Skip(nil, 4)
	if !bytes.Equal(got.Flatten(), want[4:]) {
		t.Fatalf("Skip(4) = %v, want %v", got.Flatten(), want[4:])
	}
	if !bytes.Equal(orig.Flatten(), want) || len(orig[0]) != 3 {
		t.Fatal("Skip changed the original headers")
	}
}

func TestWindowCapsSegmentsAtMaxIOV(t *testing.T) {
	bufs := make(Buffers, 2*MaxIOV+5)
	for i := range bufs {
		bufs[i] = []byte{byte(i)}
	}
	var total, windows int
	for bufs.Len() > 0 {
		w, n := bufs.Window(nil, 0)
		if len(w) > MaxIOV {
			t.Fatalf("window of %d segments, limit %d", len(w), MaxIOV)
		}
		if n != len(w) {
			t.Fatalf("window reports %d bytes, holds %d", n, len(w))
		}
		total += n
		windows++
		bufs.Consume(n)
	}
	if total != 2*MaxIOV+5 || windows != 3 {
		t.Fatalf("%d bytes in %d windows, want %d in 3", total, windows, 2*MaxIOV+5)
	}
}

func TestWindowSkipsEmptySegments(t *testing.T) {
	w, n := Buffers{nil, seq(2, 0), {}, seq(1, 5)}.Window(nil, 8)
	if len(w) != 2 || n != 3 {
		t.Fatalf("window %v (%d bytes), want 2 non-empty segments of 3 bytes", w, n)
	}
}

func TestCloneCopiesHeadersOnly(t *testing.T) {
	a := seq(4, 0)
	orig := Buffers{a}
	c := orig.Clone()
	orig[0] = nil
	if c[0] == nil || &c[0][0] != &a[0] {
		t.Fatal("Clone must copy headers and share bytes")
	}
	if Buffers(nil).Clone() != nil {
		t.Fatal("Clone of nil must be nil")
	}
}
