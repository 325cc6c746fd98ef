package server

import (
	"testing"
	"time"
)

// A region that completes within an eighth of the read timeout doubles the
// next one, up to maxChunk; a slower one leaves it as it is; without a
// timeout every completion doubles it.
func TestRegionsGrowWhileTheClientKeepsUp(t *testing.T) {
	const timeout = 8 * time.Second
	send := func(r *response, ago time.Duration) {
		r.sentAt[r.sends%inFlight] = time.Now().Add(-ago)
		r.sends++
		r.pending++
	}
	r := &response{chunk: chunkSize}
	send(r, 2*time.Second) // slower than timeout/8
	send(r, 0)
	r.completed(timeout)
	if r.chunk != chunkSize {
		t.Errorf("after a slow region the next is %d bytes, want %d", r.chunk, chunkSize)
	}
	r.completed(timeout)
	if r.chunk != 2*chunkSize {
		t.Errorf("after a fast region the next is %d bytes, want %d", r.chunk, 2*chunkSize)
	}
	for range 10 {
		send(r, 0)
		r.completed(timeout)
	}
	if r.chunk != maxChunk {
		t.Errorf("after many fast regions the next is %d bytes, want maxChunk (%d)", r.chunk, maxChunk)
	}
	if r.pending != 0 || r.done != r.sends {
		t.Errorf("pending %d, %d of %d done", r.pending, r.done, r.sends)
	}

	r = &response{chunk: chunkSize}
	send(r, time.Hour)
	r.completed(0)
	if r.chunk != 2*chunkSize {
		t.Errorf("without a timeout the next region is %d bytes, want %d", r.chunk, 2*chunkSize)
	}
}
