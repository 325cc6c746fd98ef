package actor

import (
	"fmt"
	"strings"

	protoactor "github.com/asynkron/protoactor-go/actor"
)

// The ownership check: built with the overlapdebug tag, every send's
// segments are fingerprinted when the send is submitted and fingerprinted
// again when it completes, before its completion is delivered and before its
// Hold is released. A segment whose bytes differ was changed while the
// system owned it: the mistake WSASend's documentation warns about, which
// otherwise shows up (if ever) as a corrupt stream on the peer. See
// ownership_debug.go; without the tag (ownership_nodebug.go) nothing is
// fingerprinted and the send path is unchanged.
//
// The check sees a change that is still there at completion. A change undone
// before then, or one made after the kernel took the bytes but undone, goes
// unseen; the race detector catches the unsynchronised ones.

// OwnershipViolation reports a send whose bytes the caller changed between
// its submission and its completion. Built only with the overlapdebug tag.
type OwnershipViolation struct {
	// Socket is the socket the send was submitted to.
	Socket *protoactor.PID
	// Tag and Overlapped are the send's own (Send.Tag, Send.Overlapped).
	Tag        any
	Overlapped *Overlapped
	// Segment is the index in Send.Buffers of the first changed segment,
	// Changed the indexes of all of them, Segments the length of
	// Send.Buffers.
	Segment  int
	Changed  []int
	Segments int
	// Len is the length of segment Segment.
	Len int
	// Bytes and Err are the completion the send came to.
	Bytes int
	Err   error
	// SubmittedAt is the file:line that submitted the send: the first
	// caller outside overlap's actor package.
	SubmittedAt string
}

// Error describes the violation: the socket, the send and the segment.
func (v *OwnershipViolation) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "overlap: a send's buffer changed while the system owned it (before its completion): socket %s", pidID(v.Socket))
	fmt.Fprintf(&b, ", segment %d of %d (%d bytes)", v.Segment, v.Segments, v.Len)
	if len(v.Changed) > 1 {
		fmt.Fprintf(&b, ", changed segments %v", v.Changed)
	}
	if v.Tag != nil {
		fmt.Fprintf(&b, ", tag %v", v.Tag)
	}
	if v.SubmittedAt != "" {
		fmt.Fprintf(&b, ", submitted at %s", v.SubmittedAt)
	}
	fmt.Fprintf(&b, ", completing with %d bytes", v.Bytes)
	if v.Err != nil {
		fmt.Fprintf(&b, " and %v", v.Err)
	}
	return b.String()
}

func pidID(p *protoactor.PID) string {
	if p == nil {
		return "<none>"
	}
	return p.Id
}

// WithOwnershipViolationHandler makes f receive the ownership violations of
// the system's sockets, instead of the default, a panic with the
// *OwnershipViolation. f runs on the goroutine that completes the send
// (usually the connection's event loop, as a handler does), just before the
// completion is delivered; it must not block. Without the overlapdebug build
// tag there is no check and f is never called.
func WithOwnershipViolationHandler(f func(*OwnershipViolation)) SystemOption {
	return func(s *System) { s.onViolation = f }
}

// reportViolation hands v to the system's handler, or panics with it.
func (s *System) reportViolation(v *OwnershipViolation) {
	if s.onViolation != nil {
		s.onViolation(v)
		return
	}
	panic(v)
}
