package wsabuf

import "unsafe"

// Lending. A receiver whose bytes stay put for a while (an event loop's
// read buffer, valid until its read callback returns) can hand them to a
// holder as a Buf without copying them. The holder uses the Buf as any
// other. Before the lender takes its bytes back it calls Reclaim, and a Buf
// still referenced then gets memory of its own from its pool, with a copy
// of the bytes (Own).
//
// A lent Buf stays on the lender's goroutine while it is lent: Retain,
// which makes more holders, owns it first. Slices taken of a lent Buf's
// Bytes view the lender's memory; Own moves the ones it is given, and Bytes
// called after it returns the copy.

// States of Buf.loan.
const (
	loanNone  int32 = iota // not lent, or the loan has ended
	loanLent               // views the lender's bytes
	loanOwned              // lent, and owns a copy since
)

// Lend makes b, a Buf the lender keeps for the purpose, a view of data
// holding one reference. b must be new or have been reported free by
// Reclaim. Lent bytes do not count against the pool's Limit.
func (p *Pool) Lend(b *Buf, data []byte) {
	// Field by field: assigning a whole Buf copies 128 bytes with write
	// barriers, a measurable share of a lent read.
	b.b, b.mem, b.lent, b.onRelease = data, nil, data, nil
	b.size, b.pool, b.class = len(data), p, -1
	b.loan.Store(loanLent)
	b.refs.Store(1)
}

// Lent reports whether b views a lender's bytes.
func (b *Buf) Lent() bool { return b.loan.Load() == loanLent }

// Own gives a lent b memory of its own from its pool, with a copy of its
// bytes, and moves each of segs that views the lent bytes to the same bytes
// of the copy. Until the loan ends (Reclaim) it can be called again to move
// more segments. It does nothing for a Buf that is not on loan. The pool's
// Limit does not refuse the copy: the bytes were already received.
func (b *Buf) Own(segs [][]byte) {
	switch b.loan.Load() {
	case loanNone:
		return
	case loanLent:
		m, err := b.pool.Get(len(b.b))
		if err != nil { // over the Limit; the bytes were received, so keep them
			m = &Buf{mem: make([]byte, len(b.b)), class: -1}
			if b.pool.track {
				b.pool.inUse.Add(int64(len(m.mem))) // put takes it off again
			}
		}
		b.mem, b.class = m.mem, m.class // m's header is dropped: b's is the lender's
		b.b = b.mem[:copy(b.mem, b.b)]
		b.loan.Store(loanOwned)
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(b.lent)))
	for i, s := range segs {
		if len(s) == 0 {
			continue
		}
		off := uintptr(unsafe.Pointer(unsafe.SliceData(s))) - base
		if end := off + uintptr(len(s)); off < uintptr(len(b.b)) && end <= uintptr(len(b.b)) {
			segs[i] = b.mem[off:end:end]
		}
	}
}

// Reclaim ends the loan of b: the lender is taking its bytes back. A b
// still referenced owns a copy from then on (Own) and belongs to its
// holders: Reclaim reports false, and the lender must not touch b again.
// It reports true when b was released while lent and is free to lend again.
func (b *Buf) Reclaim() (free bool) {
	state := b.loan.Load()
	if state == loanNone {
		return false
	}
	free = state == loanLent && b.refs.Load() == 0
	if !free {
		b.Own(nil)
	}
	b.loan.Store(loanNone)
	return free
}
