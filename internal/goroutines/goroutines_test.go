package goroutines

import (
	"runtime"
	"testing"
	"time"
)

//go:noinline
func parkedOnReceive(ch chan struct{}) { <-ch }

// A goroutine blocked in a receive is found in "chan receive" by its
// function, and in no other state; a function nobody runs is not found.
func TestIn(t *testing.T) {
	ch := make(chan struct{})
	done := make(chan struct{})
	go func() { parkedOnReceive(ch); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for !In("goroutines.parkedOnReceive", "chan receive") {
		if time.Now().After(deadline) {
			t.Fatal("the goroutine parked in a receive was not found")
		}
		runtime.Gosched()
	}
	if In("goroutines.parkedOnReceive", "syscall") {
		t.Error("found in the wrong state")
	}
	if In("goroutines.noSuchFunction", "") {
		t.Error("found a function nobody runs")
	}
	close(ch)
	<-done
}
