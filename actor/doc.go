// Package actor is overlap's socket actor: Winsock's WSASend contract as
// actor messages.
//
// # The socket actor
//
// Every connection is an actor. The transport spawns it from the user's
// Props (the handler) with the socket's own mailbox, which runs on the
// connection's event loop. The handler receives, in order:
//
//   - *protoactor.Started, then *Connected with the *Socket handle;
//   - *Received for bytes read (a pooled *wsabuf.Buf the handler releases,
//     or hands to a Send as its Hold);
//   - *Completion for sends that asked for one;
//   - *Unwritable and *Writable as the queued bytes cross the watermarks;
//   - *Closed last; the actor stops after it.
//
// Anyone may send: Socket.Send from any goroutine, ctx.Send or ctx.Request
// of a *Send to the socket's PID from an actor, SendFrom from the handler
// itself (which writes at once when nothing is queued), SendBlocking and
// TrySend for callers that are not actors.
//
// Actors that send to sockets run best on System.Dispatcher (long-lived
// workers in place of protoactor's goroutine per activation), and may keep
// their *Send messages in a ring: a Send is the sender's again once its
// completion comes.
//
// A handler runs on the event loop. One that blocks stalls every connection
// of its loop: hand slow work to other actors and send from there.
//
// # The contract, clause by clause
//
// The numbers are those of DESIGN.md's table; each has a test that names it.
//
//  1. Send works on connected TCP, Unix-stream and connected UDP sockets.
//  2. The socket copies the buffer array (slice headers) on submit; the bytes
//     are the system's until the completion (wsabuf documents the Buf
//     ownership rules).
//  3. Any segment count: zero completes with 0 bytes in order; past
//     wsabuf.MaxIOV (1,024) a gather is written in several writev calls that
//     stay contiguous and in order.
//  4. SendFrom says whether a send completed at once (with its count) or is
//     pending (ErrIOPending); a requested completion follows in both cases,
//     exactly once.
//  5. MsgDontRoute is applied with MSG_DONTROUTE.
//  6. MsgOOB on a stream goes out as urgent data after every earlier send;
//     elsewhere ErrOpNotSupported, nothing sent.
//  7. MsgPartial on datagram sockets gathers pieces until a send without it
//     and sends one datagram (too large: ErrMsgSize for every piece); on
//     streams ErrOpNotSupported.
//  8. Overlapped: a channel (Done), Wait(ctx) and Result; submitting one
//     that is pending fails with ErrInvalid, nothing sent.
//  9. Completion is a message to ReplyTo or the requester; one socket's
//     completions arrive in submission order.
//  10. SendBlocking (SendTimeout → ErrTimedOut, ctx → ErrInterrupted) and
//     TrySend (partial count with ErrWouldBlock).
//  11. Datagrams over Socket.MaxMsgSize fail with ErrMsgSize, nothing sent.
//  12. A dialed UDP socket sends to its peer; an unconnected one fails with
//     ErrNotConn.
//  13. Shutdown sends every earlier send, then half-closes; later sends fail
//     with ErrShutdown.
//  14. Abort (and engine stop past its deadline) completes pending sends with
//     ErrOperationAborted and the bytes they sent; Flush aborts queued sends
//     not yet started; a socket actor that stops (its owner stopped it)
//     cancels its pending sends.
//  15. Options.MaxPendingSends and MaxPendingBytes: past them ErrWouldBlock
//     at once, nothing queued.
//  16. An exhausted wsabuf.Pool gives ErrNoBufs.
//  17. Sending before the System starts or after it stops, or on a zero
//     Socket (one no engine made): ErrNotInitialised.
//  18. A Send on a nil *Socket, or to a PID that is not (or no longer) a
//     socket: ErrNotSock, also when it arrives as a dead letter.
//  19. Transport errors are mapped from the OS error (Classify); pending
//     sends complete with them.
//  20. ErrFault, ErrInvalid, ErrOpNotSupported, ErrInterrupted and
//     ErrInProgress have the meanings in the table below.
//  21. Submission order is wire order; each send is contiguous; any number of
//     goroutines and actors may send at once.
//  22. Handlers may send from their Received and Completion handling.
//  23. A completion means the kernel took the bytes, not that the peer got
//     them. MsgConfirm asks for more: the send completes once the peer's TCP
//     has acknowledged all of it (SIOCOUTQ, polled while confirmations are
//     outstanding), and later completions wait behind it.
//
// Beyond the table, from Winsock's TransmitFile: a Send's File region is
// sent after its Buffers by the kernel (sendfile), under every clause above
// that applies to a stream send; a file shorter than its region fails the
// send and resets the connection (TestTransmitFile*).
//
// # Checking buffer ownership
//
// Clause 2 is the caller's to keep: from Send until the completion the bytes
// are the system's, and a caller that changes them (a handler reusing its
// scratch buffer for the next message, a goroutine refilling an array it
// has just sent) sends whatever the bytes hold when the kernel takes them.
// Built with the overlapdebug tag,
//
//	go test -tags overlapdebug ./...
//	go build -tags overlapdebug ./cmd/yourserver
//
// every send's segments are fingerprinted (hash/maphash) at submit and again
// at completion, before the completion is delivered and before its Hold is
// released. A segment that changed is reported as an *OwnershipViolation
// naming the socket, the send's Tag and Overlapped, the index of the changed
// segment in Send.Buffers, the completion's result and the file:line that
// submitted the send. By default the report is a panic with the violation,
// on the goroutine that completes the send (usually the event loop, which
// ends the program); WithOwnershipViolationHandler hands it to a function
// instead, to log and go on. Without the tag there is no fingerprint and no
// cost: the hooks compile to nothing (OwnershipChecks tells the builds apart).
//
// The check catches a change still present at completion. Run it with the
// race detector, which catches unsynchronised changes that the hashes miss.
//
// # Errors
//
// Every error is a sentinel *Error that matches its errno with errors.Is
// and carries the Winsock name and code. Errors from the OS come as *OpError,
// which matches both the sentinel and the underlying *os.SyscallError.
//
//	sentinel             Winsock                 errno        meaning here
//	ErrConnAborted       WSAECONNABORTED 10053   ECONNABORTED the connection failed locally
//	ErrConnReset         WSAECONNRESET 10054     ECONNRESET   the peer reset (or closed) the connection
//	ErrFault             WSAEFAULT 10014         EFAULT       a Hold buffer was already released
//	ErrInterrupted       WSAEINTR 10004          EINTR        a blocking send was cancelled by its context
//	ErrInProgress        WSAEINPROGRESS 10036    EINPROGRESS  a blocking send is already running on the socket
//	ErrInvalid           WSAEINVAL 10022         EINVAL       the Overlapped is pending; a nil *Send
//	ErrMsgSize           WSAEMSGSIZE 10040       EMSGSIZE     datagram over the maximum message size
//	ErrNetDown           WSAENETDOWN 10050       ENETDOWN     the network is down
//	ErrNetReset          WSAENETRESET 10052      ENETRESET    keep-alive failure or TTL expiry
//	ErrNoBufs            WSAENOBUFS 10055        ENOBUFS      a buffer pool or memory limit was reached
//	ErrNotConn           WSAENOTCONN 10057       ENOTCONN     no default peer (unconnected datagram socket)
//	ErrNotSock           WSAENOTSOCK 10038       ENOTSOCK     not (or no longer) a socket actor; closed
//	ErrOpNotSupported    WSAEOPNOTSUPP 10045     EOPNOTSUPP   unknown flag, MSG_OOB on datagrams, MSG_PARTIAL on streams
//	ErrShutdown          WSAESHUTDOWN 10058      ESHUTDOWN    the socket was shut down for sending
//	ErrTimedOut          WSAETIMEDOUT 10060      ETIMEDOUT    a blocking send passed SendTimeout
//	ErrWouldBlock        WSAEWOULDBLOCK 10035    EAGAIN       too many pending sends or bytes
//	ErrNotInitialised    WSANOTINITIALISED 10093 -            the System is not running
//	ErrOperationAborted  WSA_OPERATION_ABORTED 995 ECANCELED  closed, aborted, flushed or the actor stopped
//	ErrIOPending         WSA_IO_PENDING 997      -            not an error: the send is queued
//
// A refused send (any error returned by Send) is completed at once with that
// error, so that every send has exactly one completion, unlike WSASend,
// which posts none for a call that failed.
package actor
