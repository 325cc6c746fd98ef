package actor

import (
	"math/bits"
	"sync"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/wsabuf"
)

// opKind tells a queued operation what it asks of the writer.
type opKind uint8

const (
	opData     opKind = iota // a send
	opShutdown               // half-close after everything before it
	opClose                  // graceful close after everything before it
	opAbort                  // reset now; everything pending is aborted
	opFlush                  // abort the sends before it that have not started
	opCancel                 // cancel the blocking send whose Overlapped is ov
)

// inlineSegs is how many segments a send carries without a heap allocation.
const inlineSegs = 3

// sendOp is one queued operation, stored by value in the socket's queues.
// The submitter fills it; from then on it belongs to the socket's writer.
type sendOp struct {
	//lint:ignore U1000 used by the overlapdebug build
	own     ownMark // the overlapdebug fingerprint; zero-size without it, and first, where that adds no padding
	kind    opKind
	flags   Flags
	try     bool  // TrySend: write what fits once, never wait
	nseg    int32 // segments in inline or extra
	inline  [inlineSegs][]byte
	extra   *segArray   // more than inlineSegs segments: a pooled array, back to its pool at completion
	file    *FileRegion // sent after the segments (sendfile); its bytes are in size
	size    int         // bytes in all segments
	sent    int         // bytes the kernel has taken so far (writer-owned)
	end     int64       // stream offset just past the send's last byte, once written
	ov      *Overlapped
	replyTo *protoactor.PID
	hold    Releaser
	tag     any
	cause   error // opCancel: the error the cancelled send completes with
	direct  bool  // SendFrom's immediate write: its outcome goes to Socket.direct
}

// directResult receives the outcome of SendFrom's immediate write.
type directResult struct {
	n   int
	err error
}

// segs returns the captured segments.
func (op *sendOp) segs() [][]byte {
	if op.extra != nil {
		return op.extra.s[:op.nseg]
	}
	return op.inline[:op.nseg]
}

// segArray is the captured segment list of a send with more segments than
// fit in the op. Arrays are pooled by power-of-two size, so a gather send
// allocates nothing for its list in steady state.
type segArray struct{ s [][]byte }

// segPools[c] holds arrays of 1<<c segments, up to wsabuf.MaxIOV; a longer
// list (a send may have more segments than one writev takes) is allocated
// and left to the collector.
var segPools [maxSegClass + 1]sync.Pool

// maxSegClass is the class of wsabuf.MaxIOV segments (checked at compile
// time below).
const maxSegClass = 10

var _ = [1]struct{}{}[1<<maxSegClass-wsabuf.MaxIOV] // 1<<maxSegClass == wsabuf.MaxIOV

// segClass is the pool class of an array of n segments: 1<<c >= n.
func segClass(n int) int { return bits.Len(uint(n - 1)) }

// getSegArray returns an array of n segments.
func getSegArray(n int) *segArray {
	c := segClass(n)
	if c >= len(segPools) {
		return &segArray{s: make([][]byte, n)}
	}
	if a, ok := segPools[c].Get().(*segArray); ok {
		a.s = a.s[:n]
		return a
	}
	return &segArray{s: make([][]byte, n, 1<<c)}
}

// appendUnsent appends the segments not yet written to dst, stopping at max
// segments, and returns dst and the bytes appended.
func (op *sendOp) appendUnsent(dst [][]byte, max int) ([][]byte, int) {
	skip, n := op.sent, 0
	for _, b := range op.segs() {
		if len(dst) >= max {
			break
		}
		if skip >= len(b) {
			skip -= len(b)
			continue
		}
		b = b[skip:]
		skip = 0
		dst = append(dst, b)
		n += len(b)
	}
	return dst, n
}

// clear drops references so a reused slot does not pin buffers.
func (op *sendOp) clear() { *op = sendOp{} }

// replyTarget picks where a send's completion message goes.
func replyTarget(m *Send, sender *protoactor.PID) *protoactor.PID {
	if m != nil && m.ReplyTo != nil {
		return m.ReplyTo
	}
	return sender
}

// The pending count and bytes of a socket share one uint64: the bytes in
// the low pendingShift bits, the sends above them. A send adds
// packPending(size) and its completion subtracts it, one atomic each. The
// bytes of the pending sends stay below 1<<pendingShift: the cap on
// MaxPendingBytes is half of that, and only one send past the cap (a send
// larger than it, alone) is ever admitted.
const (
	pendingShift    = 44
	maxPendingBytes = 1 << (pendingShift - 1)  // Options.MaxPendingBytes at most
	maxPendingSends = 1<<(64-pendingShift) - 1 // Options.MaxPendingSends at most
)

func packPending(size int) uint64 { return 1<<pendingShift + uint64(size) }

func unpackPending(v uint64) (sends, bytes int) {
	return int(v >> pendingShift), int(v & (1<<pendingShift - 1))
}

// alone reports whether op cannot share a writev with the sends around
// it: one with flags (MSG_OOB goes out after everything before it, which
// the queue order guarantees), a TrySend that must not wait, or one with a
// file region (its bytes go by sendfile).
func (op *sendOp) alone() bool { return op.flags != 0 || op.try || op.file != nil }

// fileStart is the send's byte offset where its file region begins: the
// segments' bytes.
func (op *sendOp) fileStart() int { return op.size - int(op.file.Length) }

// held is the bytes the send holds in memory, which the pending-bytes
// limits and watermarks count: all of them but a file region's, which the
// kernel reads from the file.
func (op *sendOp) held() int {
	if op.file == nil {
		return op.size
	}
	return op.fileStart()
}
