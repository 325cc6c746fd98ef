package transport

import (
	"os"
	"runtime"
	"sync"
)

// An event loop spends its idle time blocked in epoll_wait, which the Go
// runtime sees as a system call holding a processor (a P). When every P is
// taken, the runtime's sysmon takes a blocked loop's P away after 20 µs so
// that other goroutines can run, and the loop must find one again when its
// wait returns: with as many loops as Ps, that happens at nearly every
// wait, and keeps sysmon waking every 20 µs. One idle P is enough for sysmon
// to leave loops in their waits alone. On the 2-core machine of bench/, two
// loops with GOMAXPROCS 3 used 7-12% less CPU per echoed message than with
// GOMAXPROCS 2, for overlap and raw gnet alike; a goroutine-per-connection
// net.Conn server was unchanged by it. The P is not free: goroutines that
// keep busy get it too, and run beside the loops on CPUs the loops need
// (Config.SpareProcessor says what that cost a broadcaster).
//
// So while the loops of engines with Config.SpareProcessor run, the process
// keeps GOMAXPROCS at least one above them: procs raises it as loops start
// and puts back what it found when the last of them stops, unless someone
// else set it meanwhile. It leaves GOMAXPROCS alone when the environment
// variable sets it: the user chose.
var procs struct {
	mu    sync.Mutex
	loops int // event loops running in engines that asked for a spare P
	set   int // the GOMAXPROCS procs last set, 0 when none of its own is in force
	found int // GOMAXPROCS before procs first raised it
}

// reserveProcs counts loops more event loops and raises GOMAXPROCS to leave
// a P spare beside them. The returned func gives them back; calling it
// again does nothing.
func reserveProcs(loops int) (release func()) {
	if os.Getenv("GOMAXPROCS") != "" {
		return func() {}
	}
	procs.mu.Lock()
	defer procs.mu.Unlock()
	procs.loops += loops
	cur := runtime.GOMAXPROCS(0)
	if procs.set != 0 && cur != procs.set {
		procs.set = 0 // set by someone else since: theirs now
	}
	if want := procs.loops + 1; want > cur {
		if procs.set == 0 {
			procs.found = cur
		}
		runtime.GOMAXPROCS(want)
		procs.set = want
	}
	var once sync.Once
	return func() { once.Do(func() { releaseProcs(loops) }) }
}

// releaseProcs uncounts loops event loops and lowers GOMAXPROCS as far as
// the loops still running allow, down to the value procs found.
func releaseProcs(loops int) {
	procs.mu.Lock()
	defer procs.mu.Unlock()
	procs.loops -= loops
	if procs.set == 0 || runtime.GOMAXPROCS(0) != procs.set {
		procs.set = 0 // not raised, or set by someone else since
		return
	}
	want := max(procs.found, procs.loops+1)
	if want >= procs.set {
		return
	}
	runtime.GOMAXPROCS(want)
	procs.set = want
	if want == procs.found {
		procs.set = 0 // back to what it was: no longer procs's
	}
}
