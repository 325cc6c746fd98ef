package transport

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// The watcher's goroutine waits on Go's netpoller ("IO wait"), not in a
// blocking epoll_wait ("syscall"): parked, it holds no thread and gives the
// runtime no processor to take back. stop ends it.
func TestWatcherWaitsInTheNetpoller(t *testing.T) {
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
		if state == "syscall" || time.Now().After(deadline) {
			t.Fatalf("the watcher's goroutine is in state %q, want \"IO wait\"", state)
		}
		runtime.Gosched() // it has not reached its wait yet
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
