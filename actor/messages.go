package actor

import (
	"net"
	"os"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/wsabuf"
)

// Releaser is something a send holds until its completion and then
// releases: a *wsabuf.Buf, typically. If it also has an Err method (as
// *wsabuf.Buf does), a non-nil Err at submit fails the send with ErrFault.
type Releaser interface{ Release() }

// Send asks a socket actor to send Buffers: the WSASend call as a message.
// Deliver it with ctx.Send or ctx.Request to the socket's PID, or pass it to
// Socket.Send.
//
// Ownership: the socket copies the Buffers array (the slice headers) when the
// send is submitted, so the caller may reuse the array at once; the bytes
// themselves belong to the system until the completion, and must not be
// changed before it. A completion means the kernel has taken the bytes (they
// are reusable), not that the peer has received them.
//
// A *Send delivered as a message (ctx.Send, ctx.Request) is the system's
// like its bytes, until the send completes; after the completion the
// sender may change it and send it again. An actor that sends in a hot
// loop keeps its Send messages in a ring, as it keeps its buffers, and
// allocates nothing per send.
type Send struct {
	Buffers wsabuf.Buffers
	Flags   Flags
	// Overlapped, if set, is completed with this send's result; it must not
	// be pending.
	Overlapped *Overlapped
	// ReplyTo receives the *Completion message. When nil, the sender of a
	// ctx.Request gets it; a plain ctx.Send with no Overlapped and no ReplyTo
	// asks for no completion message.
	ReplyTo *protoactor.PID
	// Hold is released after the completion: the pooled buffer a broadcast or
	// an echo sends from.
	Hold Releaser
	// Tag is returned in the Completion, for the caller's bookkeeping.
	Tag any
	// File, if set, is a region of a file sent after Buffers by the kernel
	// (sendfile), with no copy through user space: Winsock's TransmitFile.
	// Stream sockets only, and without Flags (ErrOpNotSupported otherwise).
	// The completion's Bytes count the buffers and the file's bytes; the
	// pending-bytes limits and watermarks count only the buffers, since
	// the region holds no memory. The file must stay open, and its region
	// as long, until the completion: a region the file no longer has fails
	// the send with ErrConnAborted and resets the connection, as a stream
	// with a hole in it must be. Sends queued back to back whose regions
	// carry on from one another in the same file, with no buffers of their
	// own, may go in one sendfile call; each still completes on its own,
	// in order.
	File *FileRegion
}

// FileRegion is Length bytes of File from Offset, for Send.File. The send
// copies it when submitted, so the caller may reuse it at once; File itself
// stays the caller's, and open, until the send's completion.
type FileRegion struct {
	File   *os.File
	Offset int64
	Length int64
}

// Completion reports the end of one send, exactly once per send: its bytes
// and its error (nil on success). Completions of one socket are delivered in
// submission order, with two exceptions that complete at once: a send
// refused at submit, and a send withdrawn before it started (by Flush or by a
// blocking send's timeout), which may complete before a partly written send
// ahead of it.
type Completion struct {
	Socket     *protoactor.PID
	Overlapped *Overlapped
	Tag        any
	Bytes      int
	Err        error
}

// Connected is the first message a socket's handler receives after Started:
// the socket is open and this is its handle.
type Connected struct {
	Socket *Socket
}

// Received carries bytes read from the socket to its handler, in order.
// Data is a pooled buffer the handler owns: release it when done, or hand it
// to a Send as Hold so it is released after the send completes. From is the
// peer of a datagram on an unconnected socket, nil otherwise. With
// Options.LendReceived, Data views the event loop's read buffer until the
// handler returns: see there for what that changes.
//
// The *Received itself is valid only until the handler's Receive returns:
// the socket reuses it for later reads, as gnet reuses its read buffer. Keep
// m.Data (a reference you own), not m; do not forward or stash m.
//
// Unless the Props have middleware or a context decorator, the actor system
// has metrics, or the actor has a receive timeout, the Context that comes
// with a Received is the socket's own rather than protoactor's (other
// messages come with protoactor's): it costs a read fewer cold pages. It
// answers as protoactor's does (no sender, no header), except that Stash
// refuses a Received (an error is logged) instead of keeping a message that
// is about to be reused, and that a ReenterAfter continuation sees no
// message rather than the reused Received. Set a receive timeout through
// the context Receive was given (see handlerContext).
type Received struct {
	Socket *Socket
	Data   *wsabuf.Buf
	From   net.Addr
	one    [1][]byte
}

// Buffers returns the received bytes as a one-segment gather list, ready to
// send back (the echo case) without building an array: the list lives in the
// message, and a Send copies it on submit.
func (m *Received) Buffers() wsabuf.Buffers {
	m.one[0] = m.Data.Bytes()
	return m.one[:]
}

// Closed is the last socket message a handler receives: the connection is
// gone and every send has completed. Err is nil when overlap closed the
// connection locally (Close, Abort, linger expiry, engine stop, the actor
// stopping), and the transport's reason otherwise (a reset, EOF, ErrNoBufs).
// The socket actor stops after its handler has processed Closed.
type Closed struct {
	Socket *Socket
	Err    error
}

// Unwritable tells the socket's watermark target that the bytes queued on
// the socket reached the high watermark: stop sending until Writable.
type Unwritable struct {
	Socket  *Socket
	Pending int
}

// Writable tells the socket's watermark target that the queued bytes fell to
// the low watermark after an Unwritable.
type Writable struct {
	Socket  *Socket
	Pending int
}

// Shutdown asks the socket to half-close after every earlier send: the
// message form of Socket.Shutdown.
type Shutdown struct{}

// Close asks the socket to close: gracefully (every earlier send is
// delivered to the kernel first, within the linger time) or, with Abort,
// at once with pending sends completing with ErrOperationAborted.
type Close struct{ Abort bool }

// Flush aborts the sends queued on the socket that have not started (the
// SIO_FLUSH ioctl): they complete with ErrOperationAborted and 0 bytes.
type Flush struct{}
