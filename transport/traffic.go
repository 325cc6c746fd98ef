package transport

import (
	"net"
	"os"
	"unsafe"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/wsabuf"
)

// This file holds what runs for every message: a read handed to its
// socket (OnTraffic) and the writes that answer it (gconn.Writev, write,
// syscall3). They are kept together because the Go linker lays functions
// out in source order: about 1.9 KB of code, on one page or two depending
// on where the block lands, where apart they take two or three. On
// machines whose kernels flush the TLB at every system call (page-table
// isolation without PCID) each page touched after a read or a write costs
// a page walk. See actor/socket_inline.go, which does the same for the
// actor's side.

// OnTraffic hands what gnet read for a connection to its socket: lent
// (Options.LendReceived) or copied into a pooled buffer.
func (b *bridge) OnTraffic(c gnet.Conn) gnet.Action {
	g, ok := c.Context().(*gconn)
	if !ok || g.closed {
		// The connection first, the bridge after: a read on a connected
		// socket does not touch the bridge's page.
		if b.unbound != nil {
			return b.datagram(c)
		}
		_, _ = c.Discard(-1)
		return gnet.None
	}
	data, _ := c.Next(-1)
	if len(data) == 0 {
		return gnet.None
	}
	if g.lend {
		// Lent: the handler sees gnet's buffer, valid until this returns;
		// whatever it keeps is copied by Reclaim (see Options.LendReceived).
		// The header is the loop's, not the connection's: one that stays
		// in cache for every connection the loop serves.
		buf := g.loop.lent
		if buf == nil {
			buf = new(wsabuf.Buf)
			g.loop.lent = buf
		}
		g.pool.Lend(buf, data)
		g.ep.Received(buf, nil)
		if !buf.Reclaim() {
			g.loop.lent = nil // its holders have it now
		}
		return gnet.None
	}
	buf, err := g.pool.Get(len(data))
	if err != nil {
		// No buffer space (clause 16): the bytes cannot be kept, so the
		// stream is broken. Close rather than lose data silently; pending
		// sends and the handler's Closed carry ErrNoBufs.
		b.eng.sys.Logger.Warn("overlap: receive buffer pool exhausted; closing", "remote", c.RemoteAddr(), "err", err)
		g.reason = &actor.OpError{Op: "read", Kind: actor.ErrNoBufs, Err: err}
		return gnet.Close
	}
	copy(buf.Bytes(), data)
	var from net.Addr
	if g.info.Datagram && !g.info.Connected {
		from = c.RemoteAddr()
	}
	g.ep.Received(buf, from)
	return gnet.None
}

// Writev writes what the socket takes now of iov: write(2) for one
// segment, writev(2) for more. It implements actor.Conn.
func (g *gconn) Writev(iov [][]byte) (int, error) {
	if g.closed {
		return 0, unix.EBADF
	}
	var n int
	var err error
	if len(iov) == 1 {
		n, err = write(int(g.fd), iov[0]) // write(2) is cheaper than a one-segment writev
	} else {
		n, err = g.loop.iov.writev(int(g.fd), iov)
	}
	if testHookWritev != nil {
		testHookWritev(len(iov), n)
	}
	if err != nil {
		if err == unix.EAGAIN {
			return n, err // a full socket, at every partial write: no wrapper to allocate
		}
		return n, os.NewSyscallError("writev", err)
	}
	return n, nil
}

// rawWriteMax is the largest write made without telling the scheduler. A
// write to a non-blocking socket never waits; what it costs is the copy into
// the socket buffer, a few microseconds for this much. The scheduler's
// bookkeeping around a system call (entersyscall, exitsyscall: it lets
// another thread take the processor if the call blocks) costs a measurable
// share of a small echo, so small writes go without it. Larger ones keep it,
// so that a long copy does not hold the processor from other goroutines.
const rawWriteMax = 16 << 10

// syscall3 makes a write-family system call of size bytes: raw when small.
func syscall3(trap, a1, a2, a3 uintptr, size int) (uintptr, uintptr, unix.Errno) {
	if size <= rawWriteMax {
		return unix.RawSyscall(trap, a1, a2, a3)
	}
	return unix.Syscall(trap, a1, a2, a3)
}

// write is write(2) on the non-blocking fd, through syscall3.
func write(fd int, b []byte) (int, error) {
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	n, _, errno := syscall3(unix.SYS_WRITE, uintptr(fd), uintptr(p), uintptr(len(b)), len(b))
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
