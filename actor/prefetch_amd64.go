package actor

import "unsafe"

// prefetch asks the CPU to bring the cache line at p in, without waiting
// for it and without reading it as far as the program is concerned: no data
// race, whoever owns what p points to.
//
//go:noescape
func prefetch(p unsafe.Pointer)
