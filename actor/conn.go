package actor

import (
	"net"
	"os"
)

// Conn is what a transport gives a socket: one connection's I/O, on the
// event loop that owns it. The socket calls the methods marked "loop only"
// from that loop alone; the transport package implements Conn over gnet, and
// tests implement it with fakes (partial writers, error injectors).
type Conn interface {
	// Info describes the connection; it does not change.
	Info() ConnInfo
	// Post runs fn on the connection's event loop, later. It fails once the
	// loop has stopped; fn then never runs.
	Post(fn func()) error
	// Writev writes what the socket takes now of iov (at most MaxIOV
	// segments) without blocking, and reports the bytes written. A full
	// socket buffer returns the partial count and syscall.EAGAIN. Loop only.
	Writev(iov [][]byte) (int, error)
	// SendMsg is Writev with send flags (MSG_OOB, MSG_DONTROUTE), given as
	// this package's Flags. Loop only.
	SendMsg(iov [][]byte, flags Flags) (int, error)
	// AwaitWritable arranges for the endpoint's Writable to be called on the
	// loop once the socket can take more bytes. Loop only.
	AwaitWritable() error
	// PauseRead and ResumeRead stop and restart reading from the socket, so
	// unread bytes stay in the kernel and push back on the peer. Loop only.
	PauseRead() error
	ResumeRead() error
	// SendFile writes up to n bytes of f from offset to the connection
	// (sendfile) without blocking, and reports the bytes written: a socket
	// buffer that fills returns the partial count with no error, one that
	// is full 0 and syscall.EAGAIN, and 0 with no error means f has nothing
	// at offset; never a negative count. Loop only.
	SendFile(f *os.File, offset int64, n int) (int, error)
	// Unacked reports the bytes written to the connection that the peer has
	// not acknowledged yet (SIOCOUTQ), for MsgConfirm. Loop only.
	Unacked() (int, error)
	// ShutdownWrite half-closes the connection after the bytes written so
	// far. Loop only.
	ShutdownWrite() error
	// Close closes the connection now; abort discards unsent bytes and
	// resets the connection (SO_LINGER 0). The endpoint's Closed follows,
	// possibly before Close returns. Loop only.
	Close(abort bool) error
}

// ConnInfo describes a connection.
type ConnInfo struct {
	Network    string // "tcp", "tcp6", "unix", "udp", ...
	LocalAddr  net.Addr
	RemoteAddr net.Addr // nil for an unconnected datagram socket
	Datagram   bool     // message-oriented (UDP, unixgram)
	Connected  bool     // has a default peer
	MaxMsgSize int      // largest datagram, for message-oriented sockets
}
