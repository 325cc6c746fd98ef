package wsabuf

import (
	"errors"
	"sync"
	"testing"
)

func TestPoolSizeClasses(t *testing.T) {
	for _, tc := range []struct{ n, class int }{
		{0, 0}, {1, 0}, {64, 0}, {65, 1}, {128, 1}, {129, 2}, {1 << 20, classes - 1}, {1<<20 + 1, -1},
	} {
		if got := class(tc.n); got != tc.class {
			t.Errorf("class(%d) = %d, want %d", tc.n, got, tc.class)
		}
	}
}

func TestBufRefcountReturnsMemoryAfterLastRelease(t *testing.T) {
	p := NewPool(PoolConfig{Track: true})
	b, err := p.Get(100)
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() != 100 || p.InUse() != 128 {
		t.Fatalf("len %d in-use %d, want 100 and 128", b.Len(), p.InUse())
	}
	b.Retain(2)
	b.Release()
	b.Release()
	if b.Err() != nil || p.InUse() != 128 {
		t.Fatal("memory went back before the last release")
	}
	b.Release()
	if !errors.Is(b.Err(), ErrReleased) || p.InUse() != 0 || b.Bytes() != nil {
		t.Fatalf("after last release: err %v in-use %d", b.Err(), p.InUse())
	}
}

func TestBufReleasePastZeroPanics(t *testing.T) {
	b, _ := NewPool(PoolConfig{Track: true}).Get(1)
	b.Release()
	defer func() {
		if recover() == nil {
			t.Fatal("second Release did not panic")
		}
	}()
	b.Release()
}

func TestPoolPoisonsReleasedBytes(t *testing.T) {
	p := NewPool(PoolConfig{Poison: true})
	b, _ := p.Get(64)
	mem := b.Bytes()
	for i := range mem {
		mem[i] = 'x'
	}
	b.Release()
	for i, c := range mem {
		if c != 0xDB {
			t.Fatalf("byte %d = %#x after release, want poison 0xDB", i, c)
		}
	}
}

func TestPoolLimit(t *testing.T) {
	p := NewPool(PoolConfig{Limit: 256})
	a, err := p.Get(200)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Get(1); !errors.Is(err, ErrExhausted) {
		t.Fatalf("Get past the limit: %v, want ErrExhausted", err)
	}
	a.Release()
	if _, err := p.Get(256); err != nil {
		t.Fatalf("Get after release: %v", err)
	}
}

func TestPoolConcurrentRetainRelease(t *testing.T) {
	p := NewPool(PoolConfig{Track: true})
	b, _ := p.Get(512)
	const holders = 64
	b.Retain(holders)
	var wg sync.WaitGroup
	for i := 0; i < holders; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); b.Release() }()
	}
	wg.Wait()
	if b.Refs() != 1 {
		t.Fatalf("refs %d, want 1", b.Refs())
	}
	b.Release()
	if p.InUse() != 0 {
		t.Fatalf("in use %d after all releases", p.InUse())
	}
}

func TestHugeBuffersAreNotPooled(t *testing.T) {
	p := NewPool(PoolConfig{Track: true})
	b, _ := p.Get(1<<20 + 1)
	if cap(b.mem) != 1<<20+1 {
		t.Fatalf("huge buffer rounded to %d", cap(b.mem))
	}
	b.Release()
	if p.InUse() != 0 {
		t.Fatal("huge buffer not accounted back")
	}
}
