package main

import (
	"slices"
	"sync"
	"time"
)

// maxSamplesPerConn bounds the round trips one connection records per run:
// enough for a 1-connection run at a few hundred thousand round trips a
// second, small enough that 1,000 connections stay a few MB.
const maxSamplesPerConn = 1 << 20

// latencies collects round-trip times from many goroutines. It keeps every
// sample, so its percentiles are exact.
type latencies struct {
	mu      sync.Mutex // guards samples
	samples []time.Duration
}

// add appends one goroutine's samples.
func (l *latencies) add(d []time.Duration) {
	l.mu.Lock()
	l.samples = append(l.samples, d...)
	l.mu.Unlock()
}

// percentiles returns the given quantiles (0 < q ≤ 1) of the samples, or
// zeros when there are none.
func (l *latencies) percentiles(qs ...float64) []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]time.Duration, len(qs))
	if len(l.samples) == 0 {
		return out
	}
	slices.Sort(l.samples)
	for i, q := range qs {
		k := int(q*float64(len(l.samples))+0.5) - 1
		out[i] = l.samples[max(0, min(k, len(l.samples)-1))]
	}
	return out
}
