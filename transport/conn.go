package transport

import (
	"fmt"
	"os"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/wsabuf"
)

// gconn is one gnet connection seen as an actor.Conn. Its fields are owned by
// the connection's event loop, except those marked.
//
// It shares one allocation with its Socket (actor.NewSocketWith), and every
// open connection has one, idle or not: keep it small.
type gconn struct {
	// What a read and a write touch, first.
	ep      *actor.Endpoint // set after the socket is made
	pool    *wsabuf.Pool    // the Received buffers' pool
	loop    *loopState      // the loop's writev scratch, task poster and watcher
	fd      int32
	closed  bool
	lend    bool // Options.LendReceived: reads are lent, not copied
	watched bool // registered with the engine's watcher
	paused  bool

	c      gnet.Conn
	info   actor.ConnInfo
	onWake func()         // made when the watcher is first armed
	reason *actor.OpError // why overlap closed the connection, if it did
}

var _ actor.Conn = (*gconn)(nil)

func (g *gconn) Info() actor.ConnInfo { return g.info }

// Post runs fn on the connection's loop (safe from any goroutine).
func (g *gconn) Post(fn func()) error { return g.loop.post(fn) }

// testHookWritev, when set by a test, sees every writev: its segment count
// and the bytes written.
var testHookWritev func(segs, n int)

func (g *gconn) SendMsg(iov [][]byte, flags actor.Flags) (int, error) {
	if g.closed {
		return 0, unix.EBADF
	}
	var f int
	if flags&actor.MsgOOB != 0 {
		f |= unix.MSG_OOB
	}
	if flags&actor.MsgDontRoute != 0 {
		f |= unix.MSG_DONTROUTE
	}
	if f == 0 {
		return g.Writev(iov)
	}
	n, err := unix.SendmsgBuffers(int(g.fd), iov, nil, nil, f|unix.MSG_NOSIGNAL)
	if err != nil {
		return n, os.NewSyscallError("sendmsg", err)
	}
	return n, nil
}

func (g *gconn) AwaitWritable() error {
	if g.closed {
		return unix.EBADF
	}
	return g.loop.watch.arm(g)
}

// postWritable is called by the watcher goroutine.
func (g *gconn) postWritable() {
	_ = g.Post(g.onWake)
}

func (g *gconn) wake() {
	if !g.closed && g.ep != nil {
		g.ep.Writable()
	}
}

func (g *gconn) PauseRead() error  { return g.setRead(false) }
func (g *gconn) ResumeRead() error { return g.setRead(true) }

// setRead changes the read interest of the connection in gnet's own poller
// (gnet has no API for it): unread bytes then stay in the kernel.
func (g *gconn) setRead(on bool) error {
	if g.closed || g.paused == !on {
		return nil
	}
	if g.loop.epfd < 0 {
		return fmt.Errorf("overlap: cannot find gnet's poller: read pausing needs gnet v2.9.7")
	}
	var ev uint32
	if on {
		ev = unix.EPOLLIN | unix.EPOLLPRI
	}
	if err := unix.EpollCtl(g.loop.epfd, unix.EPOLL_CTL_MOD, int(g.fd), &unix.EpollEvent{Events: ev, Fd: g.fd}); err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	g.paused = !on
	return nil
}

// Unacked reports the bytes the peer has not acknowledged (SIOCOUTQ).
func (g *gconn) Unacked() (int, error) {
	if g.closed {
		return 0, unix.EBADF
	}
	n, err := unix.IoctlGetInt(int(g.fd), unix.SIOCOUTQ)
	if err != nil {
		return 0, os.NewSyscallError("ioctl", err)
	}
	return n, nil
}

// SendFile sends up to n bytes of f from offset with sendfile(2): the
// kernel copies from the page cache, not through this process.
func (g *gconn) SendFile(f *os.File, offset int64, n int) (int, error) {
	if g.closed {
		return 0, unix.EBADF
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var sent int
	var serr error
	if err := rc.Control(func(fd uintptr) {
		sent, serr = unix.Sendfile(int(g.fd), int(fd), &offset, n)
	}); err != nil {
		return 0, err
	}
	if sent < 0 {
		sent = 0
	}
	if testHookSendFile != nil {
		testHookSendFile(sent, serr)
	}
	if serr != nil {
		return sent, os.NewSyscallError("sendfile", serr)
	}
	return sent, nil
}

// testHookSendFile, when set by a test, sees every sendfile's count and
// error.
var testHookSendFile func(n int, err error)

func (g *gconn) ShutdownWrite() error {
	if g.closed {
		return unix.EBADF
	}
	if g.info.Datagram {
		return nil
	}
	if err := unix.Shutdown(int(g.fd), unix.SHUT_WR); err != nil {
		return os.NewSyscallError("shutdown", err)
	}
	return nil
}

// Close closes the connection through gnet on its loop: OnClose (and so the
// endpoint's Closed) runs before Close returns.
func (g *gconn) Close(abort bool) error {
	if g.closed {
		return nil
	}
	if abort && !g.info.Datagram {
		_ = unix.SetsockoptLinger(int(g.fd), unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	}
	return g.c.EventLoop().Close(g.c)
}
