package actor

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/overlapio/overlap/wsabuf"
)

// Clauses 19 and 20 and "every error is a Go sentinel that matches the OS
// error and carries the Winsock name and code".
func TestClause19SentinelErrors(t *testing.T) {
	for _, tc := range []struct {
		err   *Error
		name  string
		code  int
		errno syscall.Errno
	}{
		{ErrConnAborted, "WSAECONNABORTED", 10053, syscall.ECONNABORTED},
		{ErrConnReset, "WSAECONNRESET", 10054, syscall.ECONNRESET},
		{ErrFault, "WSAEFAULT", 10014, syscall.EFAULT},
		{ErrInterrupted, "WSAEINTR", 10004, syscall.EINTR},
		{ErrInProgress, "WSAEINPROGRESS", 10036, syscall.EINPROGRESS},
		{ErrInvalid, "WSAEINVAL", 10022, syscall.EINVAL},
		{ErrMsgSize, "WSAEMSGSIZE", 10040, syscall.EMSGSIZE},
		{ErrNetDown, "WSAENETDOWN", 10050, syscall.ENETDOWN},
		{ErrNetReset, "WSAENETRESET", 10052, syscall.ENETRESET},
		{ErrNoBufs, "WSAENOBUFS", 10055, syscall.ENOBUFS},
		{ErrNotConn, "WSAENOTCONN", 10057, syscall.ENOTCONN},
		{ErrNotSock, "WSAENOTSOCK", 10038, syscall.ENOTSOCK},
		{ErrOpNotSupported, "WSAEOPNOTSUPP", 10045, syscall.EOPNOTSUPP},
		{ErrShutdown, "WSAESHUTDOWN", 10058, syscall.ESHUTDOWN},
		{ErrTimedOut, "WSAETIMEDOUT", 10060, syscall.ETIMEDOUT},
		{ErrWouldBlock, "WSAEWOULDBLOCK", 10035, syscall.EAGAIN},
		{ErrNotInitialised, "WSANOTINITIALISED", 10093, 0},
		{ErrOperationAborted, "WSA_OPERATION_ABORTED", 995, syscall.ECANCELED},
		{ErrIOPending, "WSA_IO_PENDING", 997, 0},
	} {
		if tc.err.Name != tc.name || tc.err.Code != tc.code {
			t.Errorf("%v: Name/Code = %s/%d, want %s/%d", tc.err, tc.err.Name, tc.err.Code, tc.name, tc.code)
		}
		if tc.err.Errno != tc.errno {
			t.Errorf("%s: Errno = %v, want %v", tc.name, tc.err.Errno, tc.errno)
		}
		if tc.errno != 0 {
			if !errors.Is(tc.err, tc.errno) {
				t.Errorf("errors.Is(%s, %v) = false", tc.name, tc.errno)
			}
			wrapped := &OpError{Op: "wsasend", Kind: tc.err, Err: &os.SyscallError{Syscall: "writev", Err: tc.errno}}
			if !errors.Is(wrapped, tc.err) || !errors.Is(wrapped, tc.errno) {
				t.Errorf("OpError of %s does not match both the sentinel and the errno", tc.name)
			}
			var k *Error
			if !errors.As(wrapped, &k) || k != tc.err {
				t.Errorf("errors.As(OpError of %s) = %v", tc.name, k)
			}
		}
		for _, other := range []syscall.Errno{syscall.EPERM, syscall.ENOENT} {
			if errors.Is(tc.err, other) {
				t.Errorf("errors.Is(%s, %v) = true", tc.name, other)
			}
		}
		if !strings.HasPrefix(tc.err.Error(), "overlap: ") {
			t.Errorf("%s: message %q", tc.name, tc.err.Error())
		}
	}
	if !errors.Is(ErrWouldBlock, syscall.EWOULDBLOCK) {
		t.Error("ErrWouldBlock does not match EWOULDBLOCK")
	}
	if errors.Is(ErrConnReset, ErrConnAborted) {
		t.Error("distinct sentinels match each other")
	}
	op := &OpError{Op: "wsasend", Kind: ErrConnReset, Err: syscall.ECONNRESET}
	if s := op.Error(); !strings.Contains(s, "wsasend") || !strings.Contains(s, "reset") {
		t.Errorf("OpError.Error() = %q", s)
	}
	if s := (&OpError{Op: "close", Kind: ErrNotSock}).Error(); !strings.Contains(s, "close") {
		t.Errorf("OpError.Error() without cause = %q", s)
	}
}

// Clause 19: Classify maps OS, net, io and wsabuf errors to the sentinels.
func TestClause19Classify(t *testing.T) {
	for _, tc := range []struct {
		in   error
		want *Error
	}{
		{nil, nil},
		{errors.New("something else"), nil},
		{syscall.ECONNRESET, ErrConnReset},
		{syscall.EPIPE, ErrConnReset},
		{&os.SyscallError{Syscall: "writev", Err: syscall.ECONNRESET}, ErrConnReset},
		{&os.SyscallError{Syscall: "writev", Err: syscall.EPIPE}, ErrConnReset},
		{fmt.Errorf("wrapped: %w", syscall.EPIPE), ErrConnReset},
		{syscall.ECONNABORTED, ErrConnAborted},
		{syscall.ENETRESET, ErrNetReset},
		{syscall.ENETDOWN, ErrNetDown},
		{syscall.ENETUNREACH, ErrNetDown},
		{syscall.ENOTCONN, ErrNotConn},
		{syscall.EMSGSIZE, ErrMsgSize},
		{syscall.ENOBUFS, ErrNoBufs},
		{syscall.ETIMEDOUT, ErrTimedOut},
		{syscall.ESHUTDOWN, ErrShutdown},
		{syscall.EBADF, ErrNotSock},
		{syscall.EAGAIN, ErrWouldBlock},
		{net.ErrClosed, ErrOperationAborted},
		{fmt.Errorf("read: %w", net.ErrClosed), ErrOperationAborted},
		{os.ErrClosed, ErrOperationAborted},
		{io.EOF, ErrConnReset},
		{wsabuf.ErrReleased, ErrFault},
		{wsabuf.ErrExhausted, ErrNoBufs},
		{ErrShutdown, ErrShutdown},
		{&OpError{Op: "x", Kind: ErrNetDown, Err: errors.New("cause")}, ErrNetDown},
	} {
		if got := Classify(tc.in); got != tc.want {
			t.Errorf("Classify(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	// wrapOS keeps the cause and falls back to ErrConnAborted.
	err := wrapOS("wsasend", &os.SyscallError{Syscall: "writev", Err: syscall.ECONNRESET})
	if !errors.Is(err, ErrConnReset) || !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("wrapOS(ECONNRESET) = %v", err)
	}
	if err := wrapOS("wsasend", errors.New("odd")); !errors.Is(err, ErrConnAborted) {
		t.Errorf("wrapOS(unknown) = %v, want ErrConnAborted", err)
	}
}

// Clause 17: a socket cannot be made, and sends fail, when the system has
// stopped.
func TestClause17NotInitialised(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)
	h.sys.Stop()
	ov, err := h.send(0, wsabuf.Buffers{[]byte("x")}, 0)
	if !errors.Is(err, ErrNotInitialised) {
		t.Errorf("Send after System.Stop: %v, want ErrNotInitialised", err)
	}
	if n, err := waitOv(t, ov); n != 0 || !errors.Is(err, ErrNotInitialised) {
		t.Errorf("completion (%d, %v)", n, err)
	}
	for name, f := range map[string]func() error{"Shutdown": h.sock.Shutdown, "Close": h.sock.Close, "Abort": h.sock.Abort, "Flush": h.sock.Flush} {
		if err := f(); !errors.Is(err, ErrNotInitialised) {
			t.Errorf("%s after System.Stop: %v", name, err)
		}
	}
	fc := newFakeConn(ConnInfo{Network: "tcp"})
	defer fc.stop(t)
	var nerr error
	fc.do(t, func() { _, _, nerr = NewSocket(h.sys, fc, nil, Options{}) })
	if !errors.Is(nerr, ErrNotInitialised) {
		t.Errorf("NewSocket on a stopped system: %v", nerr)
	}
	if len(h.fc.writes()) != 0 {
		t.Error("bytes written after System.Stop")
	}
}
