//go:build !overlapdebug

package actor

// OwnershipChecks reports whether this build checks that callers leave a
// send's bytes alone until its completion (the overlapdebug build tag).
const OwnershipChecks = false

// ownMark is a send's fingerprint: nothing without the overlapdebug tag. It
// has no size, and sendOp holds it first, where it adds no padding.
//
//lint:ignore U1000 used by the overlapdebug build
type ownMark struct{}

// fingerprint and verify do nothing without the overlapdebug tag.
func fingerprint(*Socket, *sendOp) {}
func verify(*sendOp, int, error)   {}
