package transport

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/overlapio/overlap/internal/leaktest"
)

// The watcher's goroutine waits on Go's netpoller ("IO wait"), not in a
// blocking epoll_wait ("syscall"): parked, it holds no thread and gives the
// runtime no processor to take back. stop ends it.
func TestWatcherWaitsInTheNetpoller(t *testing.T) {
	leaktest.Check(t) // the goroutine and the epoll descriptor, after stop
	w, err := newWatcher()
	if err != nil {
		t.Fatal(err)
	}
	defer w.stop()
	deadline := time.Now().Add(10 * time.Second)
	for {
		state := goroutineState("(*watcher).run")
		if state == "IO wait" {
			return
		}
		select {
		case <-w.done:
			t.Fatalf("the watcher's goroutine ended before stop: %v", w.broken)
		default:
		}
		if state == "syscall" || time.Now().After(deadline) {
			t.Fatalf("the watcher's goroutine is in state %q, want \"IO wait\"", state)
		}
		runtime.Gosched() // it has not reached its wait yet
	}
}

// A watcher whose wait fails other than by stop says so to every later
// arm: a socket whose buffer is full then fails, rather than wait for a
// Writable that would never come.
func TestWatcherFailureFailsArm(t *testing.T) {
	w, err := newWatcher()
	if err != nil {
		t.Fatal(err)
	}
	defer w.stop()
	_ = w.ep.Close() // not through stop: as if the epoll instance had failed
	select {
	case <-w.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the watcher's goroutine did not end when its epoll instance closed")
	}
	err = w.arm(&gconn{fd: 1})
	if err == nil || !strings.Contains(err.Error(), "watcher failed") {
		t.Fatalf("arm after the watcher failed: %v, want its failure", err)
	}
}

// goroutineState is the state ("running", "IO wait", "syscall", ...) of the
// first goroutine whose stack holds fn, or "" if none does.
func goroutineState(fn string) string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range strings.Split(string(buf), "\n\n") {
		if !strings.Contains(g, fn) {
			continue
		}
		head, _, _ := strings.Cut(g, "\n") // goroutine 7 [IO wait]:
		_, state, _ := strings.Cut(head, "[")
		state, _, _ = strings.Cut(state, "]")
		state, _, _ = strings.Cut(state, ",") // [IO wait, 2 minutes]
		return state
	}
	return ""
}
