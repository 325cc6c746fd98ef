package wsabuf

// MaxIOV is the largest number of segments one writev(2) accepts on Linux and
// the BSDs (UIO_MAXIOV / IOV_MAX). A longer gather is cut into windows of at
// most MaxIOV segments that go out one after another, in order.
const MaxIOV = 1024

// Buffers is a gather list: the bytes of a send are its segments, in order.
// It is the Go form of a WSABUF array.
//
// Ownership: a Buffers value passed to a send belongs to the system from the
// call until that send's completion; see the actor package.
type Buffers [][]byte

// Len reports the total number of bytes in all segments.
func (b Buffers) Len() int {
	n := 0
	for _, s := range b {
		n += len(s)
	}
	return n
}

// Consume advances b past its first n bytes, in place and without copying the
// bytes: fully written segments are dropped and a partly written one is
// resliced. It is what a gather writer does after a partial write. Consume
// panics if n is negative or larger than b.Len().
func (b *Buffers) Consume(n int) {
	if n < 0 {
		panic("wsabuf: Consume of a negative count")
	}
	s := *b
	for n > 0 {
		if len(s) == 0 {
			panic("wsabuf: Consume past the end of the buffers")
		}
		if n < len(s[0]) {
			s[0] = s[0][n:]
			n = 0
			break
		}
		n -= len(s[0])
		s[0] = nil // let the GC have it; the caller no longer needs the header
		s = s[1:]
	}
	// Drop leading empty segments so that Window never hands writev an empty
	// iovec, clearing their slots too: an empty slice can still pin an array.
	for len(s) > 0 && len(s[0]) == 0 {
		s[0] = nil
		s = s[1:]
	}
	*b = s
}

// Skip returns b without its first n bytes, like [Buffers.Consume], but leaves b
// and its segment headers untouched: the result shares b's backing array only
// for whole segments, and a partly skipped first segment is resliced in a copy
// of the header held in dst. dst is reused storage for the result (it may be
// nil). Skip panics if n is out of range.
func (b Buffers) Skip(dst Buffers, n int) Buffers {
	if n < 0 {
		panic("wsabuf: Skip of a negative count")
	}
	dst = dst[:0]
	for _, s := range b {
		if n >= len(s) {
			n -= len(s)
			continue
		}
		dst = append(dst, s[n:])
		n = 0
	}
	if n > 0 {
		panic("wsabuf: Skip past the end of the buffers")
	}
	return dst
}

// Window returns the leading part of b that one writev may take, skipping
// empty segments, appended to dst: the result, dst's own segments included,
// holds at most max segments (MaxIOV when max <= 0 or larger than MaxIOV).
// It also reports how many bytes the appended segments hold. Bytes are never
// copied.
func (b Buffers) Window(dst Buffers, max int) (Buffers, int) {
	if max <= 0 || max > MaxIOV {
		max = MaxIOV
	}
	n := 0
	for _, s := range b {
		if len(dst) >= max {
			break
		}
		if len(s) == 0 {
			continue
		}
		dst = append(dst, s)
		n += len(s)
	}
	return dst, n
}

// Clone returns a copy of b's segment headers (not of the bytes): what a
// provider captures when a send is submitted, so the caller may reuse its
// array at once.
func (b Buffers) Clone() Buffers {
	if b == nil {
		return nil
	}
	c := make(Buffers, len(b))
	copy(c, b)
	return c
}

// Flatten copies all bytes of b into one new slice. It is meant for tests and
// for datagram paths that must hand the kernel one contiguous buffer.
func (b Buffers) Flatten() []byte {
	out := make([]byte, 0, b.Len())
	for _, s := range b {
		out = append(out, s...)
	}
	return out
}
