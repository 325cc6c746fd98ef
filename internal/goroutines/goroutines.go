// Package goroutines lets tests ask, from the stacks of every goroutine,
// what a goroutine running a given function is doing: parked in the
// netpoller, waiting on a channel, in a system call.
package goroutines

import (
	"runtime"
	"strings"
)

// In reports whether some goroutine with fn on its stack (a name as stacks
// print it, e.g. "(*Socket).TrySend") is in state: what its header's
// brackets start with ("IO wait", "chan receive", "syscall").
func In(fn, state string) bool {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	for _, g := range strings.Split(string(buf), "\n\n") {
		header, _, _ := strings.Cut(g, "\n") // goroutine 7 [IO wait, 2 minutes]:
		if strings.Contains(header, "["+state) && strings.Contains(g, fn+"(") {
			return true
		}
	}
	return false
}
