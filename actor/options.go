package actor

import (
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/wsabuf"
)

// Options configures the sockets of a listener or a dial. The zero value
// takes the defaults below.
type Options struct {
	// MaxPendingSends caps the sends queued on one socket and not yet
	// completed; past it a send fails at once with ErrWouldBlock and nothing
	// is queued. Default 65,536; at most 1,048,575.
	MaxPendingSends int
	// MaxPendingBytes caps their bytes the same way: the bytes of their
	// buffers, which they hold in memory (a Send.File region holds none).
	// A single send larger than the cap is still accepted when nothing else
	// is pending, so that every size can be sent. Default 4 MiB; at most
	// 8 TiB.
	MaxPendingBytes int
	// HighWatermark and LowWatermark bound the pending bytes between an
	// Unwritable and the following Writable message. Defaults: half of
	// MaxPendingBytes and a quarter of it.
	HighWatermark, LowWatermark int
	// WatermarkTo receives Writable and Unwritable; default the socket's own
	// handler.
	WatermarkTo *protoactor.PID
	// Linger bounds a graceful close: sends not handed to the kernel by then
	// complete with ErrOperationAborted and the connection is reset.
	// Default 30 s.
	Linger time.Duration
	// SendBuffer sets the kernel's send buffer of the socket (SO_SNDBUF;
	// Linux doubles it for its bookkeeping); 0 leaves the system's, which
	// grows to megabytes. What the kernel buffers is out of the socket's
	// queue: a smaller one makes the pending limits and watermarks, and so
	// ErrWouldBlock and Unwritable, act sooner on a peer that stops
	// reading (a chat server dropping a slow client, for one).
	SendBuffer int
	// SendTimeout bounds a blocking send (SO_SNDTIMEO); 0 means no timeout.
	SendTimeout time.Duration
	// ReadPool supplies the buffers of Received messages; default
	// wsabuf.Default().
	ReadPool *wsabuf.Pool
	// MaxUnreleasedRead pauses reading while the handler holds this many
	// received bytes it has not released, so inbound memory is bounded;
	// reading resumes once they are released. 0 means no limit.
	MaxUnreleasedRead int
	// LendReceived hands the handler the event loop's read buffer instead of
	// a copy when it runs inline (the common case): Received.Data is then a
	// lent wsabuf.Buf, and a read costs no copy and no pool round trip.
	// Data works as always; what changes is the slices taken of it:
	//   - Data.Bytes() during Receive views the loop's buffer. Data that is
	//     still held when Receive returns gets a copy of its own then, and
	//     Bytes() called after that returns the copy; so does Retain.
	//   - A send of those bytes must hold Data (Send.Hold) or be made with
	//     SendFrom on this socket: either one moves the send's segments to
	//     the copy if the send outlives the read. Sends to other sockets
	//     without Hold must copy the bytes first.
	// Not for unconnected datagram sockets, whose reads are always copied.
	LendReceived bool
	// Throughput is how many messages a socket's handler processes before it
	// yields the event loop to other sockets. Default 256.
	Throughput int
}

func (o Options) withDefaults() Options {
	if o.MaxPendingSends <= 0 {
		o.MaxPendingSends = 1 << 16
	}
	o.MaxPendingSends = min(o.MaxPendingSends, maxPendingSends)
	if o.MaxPendingBytes <= 0 {
		o.MaxPendingBytes = 4 << 20
	}
	o.MaxPendingBytes = min(o.MaxPendingBytes, maxPendingBytes)
	if o.HighWatermark <= 0 {
		o.HighWatermark = o.MaxPendingBytes / 2
	}
	if o.LowWatermark <= 0 || o.LowWatermark > o.HighWatermark {
		o.LowWatermark = o.HighWatermark / 2
	}
	if o.Linger <= 0 {
		o.Linger = 30 * time.Second
	}
	if o.ReadPool == nil {
		o.ReadPool = wsabuf.Default()
	}
	if o.Throughput <= 0 {
		o.Throughput = 256
	}
	return o
}
