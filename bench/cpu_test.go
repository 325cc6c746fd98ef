package main

import (
	"testing"

	"golang.org/x/sys/unix"
)

// cpuPerOp starts measuring the benchmark process's CPU time (user and
// system, from getrusage) and returns the function that reports it per
// operation as cpu-ns/op. On a shared, loaded machine wall time per
// operation swings with what else runs; the CPU the process spent on each
// operation swings far less. The figure includes the in-process drain that
// reads what the benchmark sends, the same peer for every design measured.
// Call it after ResetTimer and the returned function when the timed work
// is done.
func cpuPerOp(b *testing.B) func() {
	start := rusageCPU(b)
	return func() {
		b.ReportMetric(float64(rusageCPU(b)-start)/float64(b.N), "cpu-ns/op")
	}
}

// rusageCPU is the process's user plus system CPU time in nanoseconds.
func rusageCPU(b *testing.B) int64 {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
