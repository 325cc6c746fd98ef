package wsabuf

import (
	"bytes"
	"fmt"
	"testing"
	"unsafe"
)

// FuzzBuffersOps decodes its input as a sequence of operations on a Buffers
// value and checks every step against a model: the bytes still to send as a
// flat []byte, and the segment boundaries as spans of one backing array
// from which every segment is cut (each segment followed by a one-byte gap
// holding gapByte, so that reading past a segment's end shows up as
// corrupt data). Operations and the invariants checked after each:
//
//   - build: a new array of up to 255 segments of 0 to 66 bytes, or (one
//     build in eight) up to 2,295, more than 2*MaxIOV, of 0 to 3 bytes;
//     sizes come from a short repeating pattern in the input, with nil and
//     empty segments among them.
//   - Consume(n), 0 <= n <= Len: Len drops by exactly n; Flatten equals the
//     model's bytes with the first n gone; every remaining segment is the
//     model's span clipped at the new start, by pointer and length (no byte
//     copied, no boundary moved); no leading empty segment remains, while
//     interior ones stay; a segment that was dropped has its slot in the
//     caller's array cleared.
//   - Consume(n) out of range (n < 0 or n > Len): panics.
//   - Skip(dst, n): the result holds the model's bytes from n on, in the
//     non-empty spans clipped at n (same pointers and lengths), reuses dst's
//     storage when it is large enough, and b's headers are left untouched;
//     out of range it panics.
//   - Window(dst, max): the first min(max, non-empty) non-empty segments,
//     identical headers, appended after dst's own (the cap counts dst's
//     segments too), a byte count equal to their sum, and b untouched; max
//     <= 0 or > MaxIOV means MaxIOV.
//   - Clone: equal headers in a new array (nil stays nil).
//   - after every step: Len equals the model's length, and every segment is
//     the model's span by pointer and length; after every eighth and the
//     last, Flatten equals the model's bytes, in memory of its own.
//   - write loop: Window, a write of 1 <= k <= n bytes, Consume(k), as a
//     gather writer does after partial writes; the bytes written equal the
//     model's first bytes.
func FuzzBuffersOps(f *testing.F) {
	f.Add([]byte{0, 3, 0, 3, 5, 1, 7, 1, 2, 1, 9, 5})
	f.Add([]byte{0, 200, 0xe1, 1, 1, 6, 0, 4, 0})                    // 1,800 one-byte segments: Window's MaxIOV cap
	f.Add([]byte{0, 4, 0, 4, 0, 1, 2, 0, 1, 0, 1, 1, 3, 2, 2, 6, 1}) // nil, empty, 2, nil: empties at every position
	f.Add([]byte{0, 2, 0, 1, 64, 1, 63, 1, 1, 1, 64, 1, 200, 3, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		d := &decoder{in: in}
		var m model
		for step := 0; !d.done() && step < 64; step++ {
			op := d.byte() % 7
			desc := m.apply(t, op, d)
			m.check(t, desc, step%8 == 7 || d.done())
		}
	})
}

// gapByte fills the byte after every segment in the backing array; no
// segment byte has this value.
const gapByte = 0xEE

// span is a segment of the model: backing[off : off+n].
type span struct{ off, n int }

// model is what b should be.
type model struct {
	backing []byte
	b       Buffers // the value under test
	flat    []byte  // the bytes b should hold, in order
	spans   []span  // b's segments, exactly
	nilSeg  []bool  // build only: which segments were nil (for Clone)
}

func (m *model) apply(t *testing.T, op byte, d *decoder) string {
	switch op {
	case 0:
		return m.build(d)
	case 1, 2: // Consume is the heart of it: twice the weight
		n := m.count(d)
		desc := fmt.Sprintf("Consume(%d) of %d", n, len(m.flat))
		if n < 0 || n > len(m.flat) {
			before := m.b.Clone()
			if !panics(func() { m.b.Consume(n) }) {
				t.Fatalf("%s did not panic", desc)
			}
			m.b = before // the slots a panicking Consume leaves are not specified
			return desc
		}
		old := m.b
		m.b.Consume(n)
		dropped := len(old) - len(m.b)
		for i := 0; i < dropped; i++ {
			if old[i] != nil {
				t.Fatalf("%s: slot %d of the caller's array still holds a dropped segment", desc, i)
			}
		}
		m.consume(n)
		return desc
	case 3:
		n := m.count(d)
		dst := make(Buffers, int(d.byte()%4), 8)
		desc := fmt.Sprintf("Skip(dst len %d cap %d, %d) of %d", len(dst), cap(dst), n, len(m.flat))
		before := m.b.Clone()
		if n < 0 || n > len(m.flat) {
			if !panics(func() { m.b.Skip(dst, n) }) {
				t.Fatalf("%s did not panic", desc)
			}
			return desc
		}
		got := m.b.Skip(dst, n)
		sameHeaders(t, desc+": b", m.b, before)
		want := m.clip(n)
		var nonEmpty []span
		for _, s := range want {
			if s.n > 0 {
				nonEmpty = append(nonEmpty, s)
			}
		}
		m.match(t, desc+": result", got, nonEmpty)
		if !bytes.Equal(got.Flatten(), m.flat[n:]) {
			t.Fatalf("%s: %q, want %q", desc, got.Flatten(), m.flat[n:])
		}
		if len(got) > 0 && len(got) <= cap(dst) && &got[:1][0] != &dst[:1][0] {
			t.Fatalf("%s: did not reuse dst's storage", desc)
		}
		return desc
	case 4:
		limit := int(int8(d.byte())) * 9 // -1152..1143: negative, 0, within and past MaxIOV
		pre := int(d.byte() % 3)
		dst := make(Buffers, pre, pre+4)
		for i := range dst {
			dst[i] = []byte{byte(i)}
		}
		desc := fmt.Sprintf("Window(dst len %d, %d)", pre, limit)
		before := m.b.Clone()
		got, n := m.b.Window(dst, limit)
		sameHeaders(t, desc+": b", m.b, before)
		max := limit
		if max <= 0 || max > MaxIOV {
			max = MaxIOV
		}
		sameHeaders(t, desc+": dst part", got[:min(pre, len(got))], dst)
		if len(got) < pre {
			t.Fatalf("%s: result lost dst's segments", desc)
		}
		var want []span
		for _, s := range m.spans {
			if pre+len(want) >= max {
				break
			}
			if s.n > 0 {
				want = append(want, s)
			}
		}
		m.match(t, desc, got[pre:], want)
		sum := 0
		for _, s := range want {
			sum += s.n
		}
		if n != sum {
			t.Fatalf("%s: reports %d bytes, holds %d", desc, n, sum)
		}
		return desc
	case 5:
		c := m.b.Clone()
		sameHeaders(t, "Clone", c, m.b)
		if (c == nil) != (m.b == nil) {
			t.Fatalf("Clone of nil=%v is nil=%v", m.b == nil, c == nil)
		}
		if len(c) > 0 && &c[0] == &m.b[0] {
			t.Fatal("Clone shares the array of headers")
		}
		return "Clone"
	default: // a gather writer's loop over partial writes, up to 32 of them
		var wrote []byte
		var w Buffers
		want := m.flat
		for steps := 0; len(m.flat) > 0 && steps < 32; steps++ {
			var n int
			w, n = m.b.Window(w[:0], int(d.byte()%5))
			if n == 0 {
				t.Fatalf("empty window with %d bytes left", len(m.flat))
			}
			k := n // the kernel takes the whole window, or 1..n bytes of it
			if c := d.byte(); c%4 != 0 {
				k = 1 + int(c)%n
			}
			wrote = append(wrote, w.Flatten()[:k]...)
			m.b.Consume(k)
			m.consume(k)
		}
		if !bytes.Equal(wrote, want[:len(wrote)]) {
			t.Fatalf("write loop wrote %v, want %v", wrote, want[:len(wrote)])
		}
		return "write loop"
	}
}

// build makes a fresh array from a count and a size pattern.
func (m *model) build(d *decoder) string {
	nseg := int(d.byte())
	pat := d.byte()
	big := pat&0xe0 == 0xe0 // one build in eight
	if big {
		nseg *= 9 // up to 2,295 segments, of at most 3 bytes (see below)
	}
	pattern := make([]byte, 1+int(pat%8))
	for i := range pattern {
		pattern[i] = d.byte()
	}
	m.backing, m.b, m.spans, m.nilSeg = m.backing[:0], nil, nil, nil
	val := byte(0)
	for i := 0; i < nseg; i++ {
		p := pattern[i%len(pattern)]
		n := int(p % 67) // 0..66: a nil (p%67 == 0 and p even) or empty segment, or up to 66 bytes
		if big {
			n %= 4 // many segments, few bytes: fast to run, so fast to minimize
		}
		off := len(m.backing)
		for j := 0; j < n; j++ {
			if val == gapByte {
				val++
			}
			m.backing = append(m.backing, val)
			val++
		}
		m.backing = append(m.backing, gapByte)
		m.spans = append(m.spans, span{off, n})
		m.nilSeg = append(m.nilSeg, n == 0 && p%2 == 0)
	}
	// Cut the segments only now: appends above may have moved the array.
	m.b = make(Buffers, nseg)
	for i, s := range m.spans {
		if !m.nilSeg[i] {
			m.b[i] = m.backing[s.off : s.off+s.n]
		}
	}
	m.flat = m.backingFlat()
	return fmt.Sprintf("build %d segments, pattern %v", nseg, pattern)
}

// backingFlat is the bytes of the current spans, read from the backing array.
func (m *model) backingFlat() []byte {
	var out []byte
	for _, s := range m.spans {
		out = append(out, m.backing[s.off:s.off+s.n]...)
	}
	return out
}

// count reads a byte count for Consume or Skip: mostly within 0..Len, with
// its edges (0, Len, a segment boundary) likely, and sometimes one past it
// or negative.
func (m *model) count(d *decoder) int {
	total := len(m.flat)
	c := d.byte()
	switch c % 8 {
	case 0:
		return 0
	case 1:
		return total
	case 2:
		return total + 1 // out of range
	case 3:
		return -1 - int(c>>3) // out of range
	case 4: // a segment boundary
		if len(m.spans) == 0 {
			return 0
		}
		i := int(d.byte()) % len(m.spans)
		n := 0
		for _, s := range m.spans[:i+1] {
			n += s.n
		}
		return n
	default:
		return int(uint16(c)<<8|uint16(d.byte())) % (total + 1)
	}
}

// clip is the model's spans after the first n bytes: a span ending before
// n is gone, one ending at n or later is cut to start at n at the earliest.
// A span ending exactly at n is kept, empty; callers drop what their
// operation drops.
func (m *model) clip(n int) []span {
	var out []span
	pos := 0 // where the span starts in the model's bytes
	for _, s := range m.spans {
		start, end := pos, pos+s.n
		pos = end
		if end < n {
			continue
		}
		cut := max(n-start, 0)
		out = append(out, span{s.off + cut, s.n - cut})
	}
	return out
}

// consume advances the model by n bytes, as Consume documents: whole
// segments before the cut are dropped, a cut one is resliced, and then
// leading empty segments are dropped (interior ones stay).
func (m *model) consume(n int) {
	spans := m.clip(n)
	for len(spans) > 0 && spans[0].n == 0 {
		spans = spans[1:]
	}
	m.spans = spans
	m.flat = m.flat[n:]
}

// check compares b with the model after every step: Len, and each
// segment by pointer and length, which fixes its bytes. full adds the byte
// comparisons, which cost time in proportion to the bytes: Flatten against
// the model's bytes, and the model's spans against its bytes.
func (m *model) check(t *testing.T, after string, full bool) {
	t.Helper()
	if got := m.b.Len(); got != len(m.flat) {
		t.Fatalf("after %s: Len %d, want %d", after, got, len(m.flat))
	}
	m.match(t, "after "+after, m.b, m.spans)
	if !full {
		return
	}
	flat := m.b.Flatten()
	if !bytes.Equal(flat, m.flat) || bytes.IndexByte(flat, gapByte) >= 0 {
		t.Fatalf("after %s: Flatten %v, want %v", after, flat, m.flat)
	}
	if len(flat) > 0 && len(m.backing) > 0 && overlaps(flat, m.backing) {
		t.Fatalf("after %s: Flatten shares memory with the segments", after)
	}
	if !bytes.Equal(m.backingFlat(), m.flat) {
		t.Fatalf("after %s: the model's spans disagree with its bytes", after) // a bug in the model
	}
}

// match checks that got's segments are exactly the spans: same lengths, and
// for non-empty ones the same first byte in the backing array (no copy).
func (m *model) match(t *testing.T, what string, got Buffers, want []span) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d segments %v, want %d %v", what, len(got), lens(got), len(want), short(want))
	}
	for i, s := range want {
		if len(got[i]) != s.n {
			t.Fatalf("%s: segment %d has %d bytes, want %d (all: %v, want %v)", what, i, len(got[i]), s.n, lens(got), short(want))
		}
		if s.n > 0 && &got[i][0] != &m.backing[s.off] {
			t.Fatalf("%s: segment %d does not start at backing byte %d", what, i, s.off)
		}
	}
}

// sameHeaders checks that a and b hold the same slice headers.
func sameHeaders(t *testing.T, what string, a, b Buffers) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d segments, want %d", what, len(a), len(b))
	}
	for i := range a {
		if len(a[i]) != len(b[i]) || cap(a[i]) != cap(b[i]) || unsafe.SliceData(a[i]) != unsafe.SliceData(b[i]) {
			t.Fatalf("%s: segment %d changed", what, i)
		}
	}
}

// lens lists the first segments' lengths, for messages.
func lens(b Buffers) []int {
	out := make([]int, min(len(b), 16))
	for i := range out {
		out[i] = len(b[i])
	}
	return out
}

// short is the first spans, for messages.
func short(s []span) []span { return s[:min(len(s), 16)] }

func overlaps(a, b []byte) bool {
	a0, b0 := uintptr(unsafe.Pointer(unsafe.SliceData(a))), uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return a0 < b0+uintptr(cap(b)) && b0 < a0+uintptr(cap(a))
}

func panics(fn func()) (did bool) {
	defer func() { did = recover() != nil }()
	fn()
	return false
}

// decoder hands out the fuzz input a byte at a time, then zeros.
type decoder struct {
	in []byte
	i  int
}

func (d *decoder) done() bool { return d.i >= len(d.in) }

func (d *decoder) byte() byte {
	if d.i >= len(d.in) {
		return 0
	}
	d.i++
	return d.in[d.i-1]
}
