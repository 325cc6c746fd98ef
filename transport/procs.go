package transport

import (
	"os"
	"runtime"
	"sync"
)

// An event loop spends its idle time blocked in epoll_wait, which the Go
// runtime sees as a system call holding a processor (a P). When no P is
// idle, the runtime's sysmon takes a blocked loop's P away after 20 µs so
// that other goroutines can run, and the loop must find one again when its
// wait returns: with as many loops as Ps, that happens at nearly every
// wait, and keeps sysmon waking every 20 µs. While one P is idle, sysmon
// leaves loops in their waits for up to 10 ms. The P is not free: goroutines
// that keep busy get it too, and run beside the loops on CPUs the loops
// need. Config.SpareProcessor gives what each side measured.
//
// So while the loops of engines with Config.SpareProcessor run, the process
// keeps GOMAXPROCS at least one above all of them (every listener's loops
// and every dialer's, of every such engine): spareP raises it as loops
// start, lowers it as they stop to what those still running need, and puts
// back what it found when the last stops, unless someone else set it
// meanwhile (one who set it to exactly spareP's value cannot be told
// apart). It leaves GOMAXPROCS alone when the environment variable sets it:
// the user chose.
var procs struct {
	mu    sync.Mutex
	loops int // event loops running in engines that asked for a spare P
	set   int // the GOMAXPROCS spareP last set, 0 when none of its own is in force
	found int // GOMAXPROCS before spareP first raised it
}

// KeepProcessorSpare does for loops event loops that no Engine runs (a
// gnet server of the application's own, beside overlap's or in its place)
// what Config.SpareProcessor does for an engine's: while they run,
// GOMAXPROCS stays one above them and every other loop counted this way.
// Call the returned func when they have stopped; calling it again does
// nothing.
func KeepProcessorSpare(loops int) (release func()) { return acquireSpareP(loops) }

// acquireSpareP counts loops more event loops and raises GOMAXPROCS to
// leave a P spare beside them. The returned func gives them back; calling
// it again does nothing.
func acquireSpareP(loops int) (release func()) {
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
	return func() { once.Do(func() { releaseSpareP(loops) }) }
}

// releaseSpareP uncounts loops event loops and lowers GOMAXPROCS as far as
// the loops still running allow, down to the value spareP found.
func releaseSpareP(loops int) {
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
	if want > procs.found {
		runtime.GOMAXPROCS(want)
		procs.set = want
		return
	}
	// Back to what it was, and no longer spareP's. Setting GOMAXPROCS
	// turned off the runtime's own updates of it (to the CPU quota and
	// affinity); if what spareP found was the runtime's default, turn them
	// on again, else put the value back as it was set.
	runtime.SetDefaultGOMAXPROCS()
	if runtime.GOMAXPROCS(0) != procs.found {
		runtime.GOMAXPROCS(procs.found)
	}
	procs.set = 0
}
