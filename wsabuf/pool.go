package wsabuf

import (
	"math/bits"
	"sync"

	"go.uber.org/atomic"
)

// Size classes of a Pool: powers of two from 1<<minShift to 1<<maxShift bytes.
// Larger requests are allocated exactly and never pooled, so one huge buffer
// cannot pin memory in the pool (as Go's internal/poll refuses to pool huge
// WSABUF arrays).
const (
	minShift = 6  // 64 B
	maxShift = 20 // 1 MiB
	classes  = maxShift - minShift + 1
)

// PoolConfig tunes a Pool. The zero value is a pool without a limit.
type PoolConfig struct {
	// Limit caps the bytes handed out and not yet released; 0 means no cap.
	// Get past the cap fails with ErrExhausted.
	Limit int64
	// Poison overwrites a buffer's bytes with 0xDB when its last reference is
	// released, so a use after release shows up as corrupt data instead of
	// silently reading another user's bytes. For tests and debugging.
	Poison bool
	// Track counts the bytes in use (InUse) even without a Limit. Counting
	// costs an atomic add shared by every goroutine using the pool, so it is
	// off unless asked for (Limit and Poison turn it on too).
	Track bool
}

// Pool hands out reference-counted byte buffers in size classes. It is safe
// for use by many goroutines. The zero value is not usable: call NewPool.
type Pool struct {
	cfg     PoolConfig
	track   bool
	inUse   atomic.Int64 // bytes handed out and not released, if tracked
	classes [classes]sync.Pool
}

// NewPool returns a pool configured by cfg.
func NewPool(cfg PoolConfig) *Pool {
	return &Pool{cfg: cfg, track: cfg.Track || cfg.Poison || cfg.Limit > 0}
}

// defaultPool serves Get and the receive paths that are given no pool.
var defaultPool = NewPool(PoolConfig{})

// Default returns the process-wide pool used where no pool is configured.
func Default() *Pool { return defaultPool }

// InUse reports the bytes handed out by p and not yet released; always 0
// for a pool that does not track them (PoolConfig.Track).
func (p *Pool) InUse() int64 { return p.inUse.Load() }

// class returns the size-class index for n bytes, or -1 if n is not pooled.
func class(n int) int {
	if n <= 1<<minShift {
		return 0
	}
	if n > 1<<maxShift {
		return -1
	}
	return bits.Len(uint(n-1)) - minShift
}

// Get returns a Buf of length n holding one reference. Its bytes are not
// zeroed. Get fails with ErrExhausted if the pool's limit would be passed.
func (p *Pool) Get(n int) (*Buf, error) {
	if n < 0 {
		panic("wsabuf: Get of a negative size")
	}
	c := class(n)
	size := n
	if c >= 0 {
		size = 1 << (c + minShift)
	}
	if p.cfg.Limit > 0 {
		if p.inUse.Add(int64(size)) > p.cfg.Limit {
			p.inUse.Sub(int64(size))
			return nil, ErrExhausted
		}
	} else if p.track {
		p.inUse.Add(int64(size))
	}
	var b *Buf
	if c >= 0 {
		if v := p.classes[c].Get(); v != nil {
			b = v.(*Buf)
		}
	}
	if b == nil {
		b = &Buf{mem: make([]byte, size), pool: p, class: int8(c)}
	}
	b.b = b.mem[:n]
	b.size = n
	b.refs.Store(1)
	return b, nil
}

// put returns b's memory to the pool after its last release.
func (p *Pool) put(b *Buf) {
	if fn := b.onRelease; fn != nil {
		b.onRelease = nil
		fn(b.size)
	}
	if b.lent != nil && b.mem == nil {
		// Lent and never copied (see Lend): nothing to give back, and no
		// need to touch the pool's page.
		b.b = nil
		return
	}
	if p.cfg.Poison {
		for i := range b.mem {
			b.mem[i] = 0xDB
		}
	}
	if p.track {
		p.inUse.Sub(int64(len(b.mem)))
	}
	b.b = nil
	switch {
	case b.lent != nil:
		// The header stays with its holders or its lender; only memory of
		// its own (see Own) goes back, under a new header.
		if b.class >= 0 {
			p.classes[b.class].Put(&Buf{mem: b.mem, pool: p, class: b.class})
		}
	case b.class >= 0:
		p.classes[b.class].Put(b)
	}
}

// Buf is a pooled, reference-counted byte buffer. The holder of a reference
// may read and (if it is the only holder) write Bytes until it calls Release.
// A send that is given a Buf to hold keeps one reference until its completion.
//
// Misuse panics where it is certain (a release past zero); a use after the
// last release is reported by Err as ErrReleased until the pool hands the
// same Buf out again.
//
// A Buf is padded to two whole cache lines (TestBufFillsTwoCacheLines):
// event loops on different cores write their buffers' reference counts on
// every message, and two Bufs sharing a line made each of those writes a
// cross-core miss (10% of an echo server's CPU at 1,000 connections).
type Buf struct {
	b         []byte
	mem       []byte
	size      int // length asked of Get
	refs      atomic.Int32
	pool      *Pool
	class     int8
	onRelease func(size int)
	lent      []byte       // made by Lend: the lender's bytes; the header is never pooled
	loan      atomic.Int32 // loanNone, loanLent or loanOwned: see lend.go
	_         [8]byte      // pad to 128 bytes: see the type's comment
}

// OnRelease arranges for fn to be called with the buffer's requested size
// when its last reference is released, before the memory goes back to the
// pool: how a receiver learns that its reader let go of a buffer. The holder
// of the only reference sets it; it is cleared after the call.
func (b *Buf) OnRelease(fn func(size int)) { b.onRelease = fn }

// Bytes returns the buffer's bytes (length as requested from Get, or as set
// by Truncate). It returns nil once the last reference is released.
func (b *Buf) Bytes() []byte { return b.b }

// Len reports len(b.Bytes()).
func (b *Buf) Len() int { return len(b.b) }

// Truncate shortens the buffer to n bytes, for a reader that filled less
// than it asked for. It panics if n is out of range.
func (b *Buf) Truncate(n int) {
	if n < 0 || n > len(b.b) {
		panic("wsabuf: Truncate out of range")
	}
	b.b = b.b[:n]
}

// Refs reports the number of references held (0 once released).
func (b *Buf) Refs() int { return int(b.refs.Load()) }

// Err reports ErrReleased if b has no reference left, nil otherwise.
func (b *Buf) Err() error {
	if b.refs.Load() <= 0 {
		return ErrReleased
	}
	return nil
}

// Retain adds n references, one for each further holder (a broadcast to n
// more sockets), and returns b. It panics if b is already released.
func (b *Buf) Retain(n int) *Buf {
	if b.Lent() {
		b.Own(nil) // more holders may be on other goroutines: see Lend
	}
	for {
		r := b.refs.Load()
		if r <= 0 {
			panic("wsabuf: Retain of a released Buf")
		}
		if b.refs.CompareAndSwap(r, r+int32(n)) {
			return b
		}
	}
}

// Release drops one reference; the last one returns the memory to its pool.
// It panics on a release past zero, which is always a caller bug.
func (b *Buf) Release() {
	switch r := b.refs.Dec(); {
	case r == 0:
		b.pool.put(b)
	case r < 0:
		panic("wsabuf: Release of a released Buf")
	}
}
