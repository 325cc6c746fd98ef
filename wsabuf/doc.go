// Package wsabuf is the buffer side of overlap: the Go analogue of Winsock's
// WSABUF array.
//
// A [Buffers] value is an array of byte slices that one gather-send hands to the
// system. Its methods measure it, advance past a partial write without copying
// ([Buffers.Consume]), and cut it into windows no longer than the operating
// system's iovec limit ([Buffers.Window], [MaxIOV]).
//
// A [Pool] hands out [Buf] values: pooled, reference-counted byte buffers. One
// Buf can be sent to many sockets at once (a broadcast): each send holds a
// reference, and the bytes go back to the pool only after the last completion
// releases it. Using a Buf after its last release is a caller bug that the
// package reports as [ErrReleased] (and, with [PoolConfig.Poison], makes visible
// by overwriting the bytes).
//
// This package knows nothing of sockets; the actor and transport packages build
// on it.
package wsabuf
