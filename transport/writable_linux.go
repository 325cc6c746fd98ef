package transport

import (
	"errors"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// watcher tells connections when their socket can take more bytes. gnet only
// watches writability for its own outbound buffer, which overlap does not
// use (it writes from the sends themselves, without copying), so a partial
// write arms a one-shot EPOLLOUT in this separate epoll instance. One
// goroutine per engine waits on it and posts the event to the connection's
// loop. The hot path never touches it: only a full socket buffer does.
type watcher struct {
	epfd int
	efd  int // eventfd that wakes the goroutine to stop

	mu    sync.Mutex
	conns map[int32]*gconn // guarded by mu; fd -> connection waiting
	done  chan struct{}
}

func newWatcher() (*watcher, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		_ = unix.Close(epfd)
		return nil, os.NewSyscallError("eventfd", err)
	}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, efd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(efd)}); err != nil {
		_ = unix.Close(epfd)
		_ = unix.Close(efd)
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	w := &watcher{epfd: epfd, efd: efd, conns: make(map[int32]*gconn), done: make(chan struct{})}
	go w.run()
	return w, nil
}

// arm asks for one Writable on c. Called on c's loop.
func (w *watcher) arm(c *gconn) error {
	fd := c.fd
	if c.onWake == nil {
		c.onWake = c.wake // published to the watcher by w.mu
	}
	w.mu.Lock()
	w.conns[fd] = c
	w.mu.Unlock()
	ev := unix.EpollEvent{Events: unix.EPOLLOUT | unix.EPOLLONESHOT, Fd: fd}
	op := unix.EPOLL_CTL_MOD
	if !c.watched {
		op = unix.EPOLL_CTL_ADD
	}
	err := unix.EpollCtl(w.epfd, op, int(c.fd), &ev)
	if op == unix.EPOLL_CTL_MOD && errors.Is(err, unix.ENOENT) {
		err = unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, int(c.fd), &ev)
	}
	if err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	c.watched = true
	return nil
}

// forget drops c before its fd is closed (and possibly reused). Called on
// c's loop.
func (w *watcher) forget(c *gconn) {
	if !c.watched {
		return
	}
	c.watched = false
	w.mu.Lock()
	if w.conns[c.fd] == c {
		delete(w.conns, c.fd)
	}
	w.mu.Unlock()
	_ = unix.EpollCtl(w.epfd, unix.EPOLL_CTL_DEL, int(c.fd), nil)
}

func (w *watcher) run() {
	defer close(w.done)
	events := make([]unix.EpollEvent, 128)
	for {
		n, err := unix.EpollWait(w.epfd, events, -1)
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			return
		}
		for i := 0; i < n; i++ {
			fd := events[i].Fd
			if int(fd) == w.efd {
				return
			}
			w.mu.Lock()
			c := w.conns[fd]
			w.mu.Unlock()
			if c != nil {
				c.postWritable()
			}
		}
	}
}

// stop ends the goroutine and closes the epoll instance.
func (w *watcher) stop() {
	var one = [8]byte{1}
	_, _ = unix.Write(w.efd, one[:])
	<-w.done
	_ = unix.Close(w.epfd)
	_ = unix.Close(w.efd)
}
