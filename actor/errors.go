package actor

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/overlapio/overlap/wsabuf"
)

// Error is one of the package's sentinel errors: the Winsock code it stands
// for and, where there is one, the POSIX errno it matches with errors.Is.
// Compare with errors.Is(err, actor.ErrConnReset) or errors.Is(err,
// syscall.ECONNRESET); both hold for a reset connection.
type Error struct {
	Name  string        // Winsock name, e.g. "WSAECONNRESET"
	Code  int           // Winsock number, e.g. 10054
	Errno syscall.Errno // matching errno, 0 if none
	text  string
}

// Error returns the error's text, "overlap: " and what it means here.
func (e *Error) Error() string { return e.text }

// Is reports whether target is e's errno, so that errors.Is(ErrConnReset,
// syscall.ECONNRESET) holds.
func (e *Error) Is(target error) bool {
	if errno, ok := target.(syscall.Errno); ok {
		return e.Errno != 0 && errno == e.Errno
	}
	return false
}

func newError(name string, code int, errno syscall.Errno, text string) *Error {
	return &Error{Name: name, Code: code, Errno: errno, text: "overlap: " + text}
}

// The sentinel errors, one per Winsock code of the WSASend contract. The
// package documentation has the table of what each means here.
var (
	ErrConnAborted      = newError("WSAECONNABORTED", 10053, syscall.ECONNABORTED, "connection aborted")
	ErrConnReset        = newError("WSAECONNRESET", 10054, syscall.ECONNRESET, "connection reset by peer")
	ErrFault            = newError("WSAEFAULT", 10014, syscall.EFAULT, "buffer released before or during the send")
	ErrInterrupted      = newError("WSAEINTR", 10004, syscall.EINTR, "blocking send cancelled")
	ErrInProgress       = newError("WSAEINPROGRESS", 10036, syscall.EINPROGRESS, "a blocking send is already running on this socket")
	ErrInvalid          = newError("WSAEINVAL", 10022, syscall.EINVAL, "invalid argument or socket state")
	ErrMsgSize          = newError("WSAEMSGSIZE", 10040, syscall.EMSGSIZE, "message larger than the socket's maximum message size")
	ErrNetDown          = newError("WSAENETDOWN", 10050, syscall.ENETDOWN, "network is down")
	ErrNetReset         = newError("WSAENETRESET", 10052, syscall.ENETRESET, "connection broken by keep-alive or TTL expiry")
	ErrNoBufs           = newError("WSAENOBUFS", 10055, syscall.ENOBUFS, "no buffer space available")
	ErrNotConn          = newError("WSAENOTCONN", 10057, syscall.ENOTCONN, "socket is not connected")
	ErrNotSock          = newError("WSAENOTSOCK", 10038, syscall.ENOTSOCK, "not a socket actor")
	ErrOpNotSupported   = newError("WSAEOPNOTSUPP", 10045, syscall.EOPNOTSUPP, "operation not supported on this socket")
	ErrShutdown         = newError("WSAESHUTDOWN", 10058, syscall.ESHUTDOWN, "socket is shut down for sending")
	ErrTimedOut         = newError("WSAETIMEDOUT", 10060, syscall.ETIMEDOUT, "send timed out")
	ErrWouldBlock       = newError("WSAEWOULDBLOCK", 10035, syscall.EAGAIN, "too many outstanding sends or bytes; try again")
	ErrNotInitialised   = newError("WSANOTINITIALISED", 10093, 0, "socket system not started or already stopped")
	ErrOperationAborted = newError("WSA_OPERATION_ABORTED", 995, syscall.ECANCELED, "send aborted")
)

// OpError is the error a completion carries when the operating system or a
// socket event caused it. It chains to the sentinel (Kind) and to the cause
// (an *os.SyscallError wrapping a syscall.Errno, for instance), so both
// errors.Is(err, actor.ErrConnReset) and errors.Is(err, syscall.ECONNRESET)
// hold.
type OpError struct {
	Op   string // "wsasend", "shutdown", "close", ...
	Kind *Error // the sentinel
	Err  error  // the cause, may be nil
}

// Error returns the operation, the sentinel's text and the cause.
func (e *OpError) Error() string {
	if e.Err == nil {
		return e.Op + ": " + e.Kind.Error()
	}
	return fmt.Sprintf("%s: %s: %v", e.Op, e.Kind.Error(), e.Err)
}

// Unwrap returns the sentinel and the cause.
func (e *OpError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// Classify maps an error from the operating system, gnet or the wsabuf
// package to the matching sentinel, or nil when none matches. It is how the
// transport turns a close reason into the error pending sends complete with.
func Classify(err error) *Error {
	if err == nil {
		return nil
	}
	var own *Error
	if errors.As(err, &own) {
		return own
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if k, ok := byErrno[errno]; ok {
			return k
		}
	}
	switch {
	case errors.Is(err, wsabuf.ErrReleased):
		return ErrFault
	case errors.Is(err, wsabuf.ErrExhausted):
		return ErrNoBufs
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return ErrConnReset
	case errors.Is(err, net.ErrClosed), errors.Is(err, os.ErrClosed):
		return ErrOperationAborted
	}
	return nil
}

// byErrno maps an errno to its sentinel: each sentinel's own errno, and the
// errnos that mean the same thing to a sender.
var byErrno = func() map[syscall.Errno]*Error {
	m := make(map[syscall.Errno]*Error)
	for _, e := range []*Error{
		ErrConnAborted, ErrConnReset, ErrFault, ErrInterrupted, ErrInProgress, ErrInvalid, ErrMsgSize,
		ErrNetDown, ErrNetReset, ErrNoBufs, ErrNotConn, ErrNotSock, ErrOpNotSupported, ErrShutdown,
		ErrTimedOut, ErrWouldBlock, ErrOperationAborted,
	} {
		m[e.Errno] = e
	}
	for errno, e := range map[syscall.Errno]*Error{
		syscall.EPIPE:        ErrConnReset, // writing after the peer's reset or close
		syscall.EHOSTUNREACH: ErrNetReset,
		syscall.ENETUNREACH:  ErrNetDown,
		syscall.ECONNREFUSED: ErrNotConn,
		syscall.ENOMEM:       ErrNoBufs,
		syscall.EBADF:        ErrNotSock,
	} {
		m[errno] = e
	}
	return m
}()

// wrapOS returns an OpError for an OS-level failure of op, classified by
// Classify (ErrConnAborted when nothing matches).
func wrapOS(op string, err error) error {
	k := Classify(err)
	if k == nil {
		k = ErrConnAborted
	}
	if k == err {
		return k
	}
	return &OpError{Op: op, Kind: k, Err: err}
}
