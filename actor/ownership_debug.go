//go:build overlapdebug

package actor

import (
	"fmt"
	"hash/maphash"
	"runtime"
	"strings"
)

// OwnershipChecks reports whether this build checks that callers leave a
// send's bytes alone until its completion (the overlapdebug build tag).
const OwnershipChecks = true

// ownSeed keys the fingerprints; one per process.
var ownSeed = maphash.MakeSeed()

// ownMark is a send's fingerprint, taken at submit: written by the
// submitter before the send is queued, read by whoever completes it. Copies
// of a sendOp share it; only one of them completes.
type ownMark struct{ rec *ownRecord }

type ownRecord struct {
	sock *Socket    // its System gets the report
	sums []uint64   // maphash of each segment, by index
	pcs  [8]uintptr // the submitting call stack
	npc  int
}

// fingerprint hashes op's segments, at the single submit point (accept,
// once the segments are captured).
func fingerprint(s *Socket, op *sendOp) {
	segs := op.segs()
	r := &ownRecord{sock: s, sums: make([]uint64, len(segs))}
	for i, b := range segs {
		r.sums[i] = maphash.Bytes(ownSeed, b)
	}
	r.npc = runtime.Callers(2, r.pcs[:])
	op.own.rec = r
}

// verify hashes op's segments again, at the single completion point
// (sendOp.finish, before the Hold is released and the completion is
// delivered), and reports the segments that changed.
func verify(op *sendOp, n int, err error) {
	r := op.own.rec
	if r == nil {
		return // refused before its segments were captured
	}
	op.own.rec = nil
	segs := op.segs()
	var changed []int
	for i, b := range segs {
		if i >= len(r.sums) || maphash.Bytes(ownSeed, b) != r.sums[i] {
			changed = append(changed, i)
		}
	}
	if changed == nil {
		return
	}
	r.sock.cfg.sys.reportViolation(&OwnershipViolation{
		Socket: r.sock.pid, Tag: op.tag, Overlapped: op.ov,
		Segment: changed[0], Changed: changed, Segments: len(segs), Len: len(segs[changed[0]]),
		Bytes: n, Err: err, SubmittedAt: submitter(r.pcs[:r.npc]),
	})
}

// submitter is the first frame of pcs outside this package.
func submitter(pcs []uintptr) string {
	frames := runtime.CallersFrames(pcs)
	for {
		f, more := frames.Next()
		if f.Function != "" && !strings.HasPrefix(f.Function, "github.com/overlapio/overlap/actor.") {
			return fmt.Sprintf("%s (%s:%d)", f.Function, f.File, f.Line)
		}
		if !more {
			return ""
		}
	}
}
