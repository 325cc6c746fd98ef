package wsabuf

import (
	"bytes"
	"testing"
	"unsafe"
)

func TestBufFillsTwoCacheLines(t *testing.T) {
	if n := unsafe.Sizeof(Buf{}); n != 128 {
		t.Fatalf("Buf is %d bytes, want 128 (see the type's comment)", n)
	}
}

// A Buf released while lent is free to lend again, and its bytes were
// never copied.
func TestLendReleasedIsFree(t *testing.T) {
	p := NewPool(PoolConfig{Track: true})
	data := []byte("hello, lender")
	var b Buf
	p.Lend(&b, data)
	if !b.Lent() || &b.Bytes()[0] != &data[0] {
		t.Fatal("a lent Buf must view the lender's bytes")
	}
	b.Release()
	if !b.Reclaim() {
		t.Fatal("a released lent Buf must be free to lend again")
	}
	if p.InUse() != 0 {
		t.Fatalf("in use %d, want 0: lent bytes are not the pool's", p.InUse())
	}
}

// A Buf still held when the loan ends keeps its bytes: Reclaim copies them,
// and the lender's memory can be reused at once.
func TestLendHeldIsCopiedOnReclaim(t *testing.T) {
	p := NewPool(PoolConfig{Track: true})
	data := []byte("kept past the read")
	var b Buf
	p.Lend(&b, data)
	if b.Reclaim() {
		t.Fatal("a held Buf is not free")
	}
	copy(data, bytes.Repeat([]byte{'x'}, len(data))) // the lender reuses its buffer
	if got := string(b.Bytes()); got != "kept past the read" {
		t.Fatalf("held bytes changed with the lender's: %q", got)
	}
	if b.Lent() || p.InUse() == 0 {
		t.Fatal("after Reclaim the Buf owns pool memory")
	}
	b.Release()
	if p.InUse() != 0 {
		t.Fatalf("in use %d after release, want 0", p.InUse())
	}
}

// Own moves the segments that view the lent bytes, and only those.
func TestLendOwnMovesSegments(t *testing.T) {
	p := NewPool(PoolConfig{})
	data := []byte("0123456789")
	other := []byte("elsewhere")
	var b Buf
	p.Lend(&b, data)
	segs := [][]byte{data[2:5], other, data[7:], nil}
	b.Own(segs[:2])
	b.Own(segs[2:]) // a second call moves more
	copy(data, "##########")
	if string(segs[0]) != "234" || string(segs[2]) != "789" || &segs[1][0] != &other[0] || segs[3] != nil {
		t.Fatalf("segments after Own: %q", segs)
	}
	if b.Reclaim() {
		t.Fatal("a held Buf is not free")
	}
	b.Own(segs) // the loan is over: nothing to do
	b.Release()
}

// Retain makes holders that may be on other goroutines, so it owns first.
func TestLendRetainOwns(t *testing.T) {
	p := NewPool(PoolConfig{})
	data := []byte("broadcast")
	var b Buf
	p.Lend(&b, data)
	b.Retain(2)
	if b.Lent() {
		t.Fatal("Retain must own a lent Buf")
	}
	copy(data, "---------")
	if string(b.Bytes()) != "broadcast" {
		t.Fatalf("retained bytes changed with the lender's: %q", b.Bytes())
	}
	b.Release()
	b.Release()
	if b.Reclaim() {
		t.Fatal("an owned Buf is never free to lend again")
	}
	b.Release()
}

// The pool's Limit does not refuse a lent Buf its copy: the bytes were
// already received, and refusing would lose them.
func TestLendCopyPastLimit(t *testing.T) {
	p := NewPool(PoolConfig{Limit: 64})
	held, err := p.Get(64) // the pool is full
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("received while the pool was full")
	var b Buf
	p.Lend(&b, data)
	if b.Reclaim() {
		t.Fatal("a held Buf is not free")
	}
	copy(data, bytes.Repeat([]byte{'x'}, len(data)))
	if got := string(b.Bytes()); got != "received while the pool was full" {
		t.Fatalf("copy past the limit: %q", got)
	}
	b.Release()
	held.Release()
	if p.InUse() != 0 {
		t.Fatalf("in use %d after release, want 0", p.InUse())
	}
}
