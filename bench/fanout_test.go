package main

import (
	"testing"
)

// TestFanOutAllocsConstant: a broadcast to 100 sockets allocates about as
// much as one to 10 — a constant per broadcast, not one allocation per
// socket (what gnet's task queue cost before posts to a loop were batched).
// The count is of the whole process, the event loops' included; what is
// left grows with how often the loop goes idle during a broadcast, which
// the race detector's slower posts make more often, hence the bound of a
// quarter of an allocation per socket rather than none.
func TestFanOutAllocsConstant(t *testing.T) {
	at10, at100, err := broadcastAllocs()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("allocations per broadcast: %.2f to 10 sockets, %.2f to 100", at10, at100)
	if perSocket := (at100 - at10) / 90; perSocket > 0.25 {
		t.Errorf("a broadcast to 100 sockets allocates %.2f times, to 10 sockets %.2f: %.2f more per socket", at100, at10, perSocket)
	}
}

// BenchmarkFanOutOverlap: one 256 B broadcast to 100 sockets, waited for
// until every send has completed. allocs/op is per broadcast.
func BenchmarkFanOutOverlap(b *testing.B) {
	const n = 100
	r, err := newBroadcastRig(n, fanOutSize)
	if err != nil {
		b.Fatal(err)
	}
	defer r.close()
	b.SetBytes(int64(n * fanOutSize))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := r.broadcast(n); err != nil {
			b.Fatal(err)
		}
	}
}
