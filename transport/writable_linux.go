package transport

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/overlapio/overlap/actor"
)

// watcher tells connections when their socket can take more bytes. gnet only
// watches writability for its own outbound buffer, which overlap does not
// use (it writes from the sends themselves, without copying), so a partial
// write arms a one-shot EPOLLOUT in this separate epoll instance. One
// goroutine per engine takes its events and posts each to the connection's
// loop. The hot path never touches it: only a full socket buffer does.
//
// The goroutine waits on Go's own netpoller, which watches the epoll
// descriptor itself (an epoll instance is readable while it has events):
// parked, it holds no thread in a system call. A goroutine blocked in
// epoll_wait would, and each of its waits would have the runtime's sysmon
// take its processor back, which keeps sysmon polling every 20 µs while
// refills come and go (bench h's 10 MiB file: a third of fileserve's CPU
// samples were sysmon's).
type watcher struct {
	ep *os.File // the epoll instance, pollable: run waits on it through Go's netpoller; epoll_ctl goes through it (ctl)

	mu     sync.Mutex
	conns  map[int32]*gconn // guarded by mu; fd -> connection waiting
	broken error            // guarded by mu: why arm fails (stop, or run's failure)
	done   chan struct{}

	notify func(*gconn) // tells a connection it may write: (*gconn).postWritable, or a test's
}

func newWatcher() (*watcher, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	if err := unix.SetNonblock(epfd, true); err != nil {
		_ = unix.Close(epfd)
		return nil, os.NewSyscallError("fcntl", err)
	}
	// Non-blocking, so os.NewFile registers it with the netpoller.
	w := &watcher{ep: os.NewFile(uintptr(epfd), "overlap-writable"), conns: make(map[int32]*gconn), done: make(chan struct{}), notify: (*gconn).postWritable}
	// A descriptor the netpoller could not take (its epoll_ctl failed:
	// max_user_watches reached) has no deadlines: fail here rather than
	// in the first wait.
	if err := w.ep.SetReadDeadline(time.Time{}); err != nil {
		_ = w.ep.Close()
		return nil, fmt.Errorf("overlap: the writability watcher's epoll instance is not pollable: %w", err)
	}
	rc, _ := w.ep.SyscallConn() // fails only for a nil File
	go w.run(rc)
	return w, nil
}

// arm asks for one Writable on c. Called on c's loop.
func (w *watcher) arm(c *gconn) error {
	fd := c.fd
	if c.onWake == nil {
		c.onWake = c.wake // published to the watcher by w.mu
	}
	w.mu.Lock()
	if err := w.broken; err != nil {
		w.mu.Unlock()
		return err // no Writable would come: fail the socket rather than stall it
	}
	w.conns[fd] = c // in the same hold as the check: a failure after it wakes c
	w.mu.Unlock()
	ev := unix.EpollEvent{Events: unix.EPOLLOUT | unix.EPOLLONESHOT, Fd: fd}
	op := unix.EPOLL_CTL_MOD
	if !c.watched {
		op = unix.EPOLL_CTL_ADD
	}
	err := w.ctl(op, c.fd, &ev)
	if op == unix.EPOLL_CTL_MOD && errors.Is(err, unix.ENOENT) {
		err = w.ctl(unix.EPOLL_CTL_ADD, c.fd, &ev)
	}
	if err != nil {
		w.mu.Lock()
		if w.conns[fd] == c {
			delete(w.conns, fd) // no Writable will come for it
		}
		w.mu.Unlock()
		return err
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
	_ = w.ctl(unix.EPOLL_CTL_DEL, c.fd, nil)
}

// ctl is epoll_ctl on the watcher's instance, through its File: once stop
// has closed it, errWatcherStopped, never a call on a reused descriptor.
func (w *watcher) ctl(op int, fd int32, ev *unix.EpollEvent) error {
	rc, _ := w.ep.SyscallConn() // fails only for a nil File
	var err error
	if cerr := rc.Control(func(epfd uintptr) { err = unix.EpollCtl(int(epfd), op, int(fd), ev) }); cerr != nil {
		return errWatcherStopped
	}
	if err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}

// run posts each connection's Writable to its loop until stop closes the
// epoll instance. If it ends otherwise, it says why in w.broken, which arm
// returns from then on.
func (w *watcher) run(rc syscall.RawConn) {
	defer close(w.done)
	events := make([]unix.EpollEvent, 128)
	ready := make([]*gconn, 0, len(events))
	var n int
	var werr error
	take := func(fd uintptr) bool {
		for {
			n, werr = unix.EpollWait(int(fd), events, 0)
			if werr != unix.EINTR {
				return werr != nil || n > 0 // else wait until it is readable
			}
		}
	}
	for {
		err := rc.Read(take)
		if err == nil && werr != nil {
			err = os.NewSyscallError("epoll_wait", werr)
		}
		if err != nil {
			w.fail(err)
			return
		}
		// The registrations are one-shot: a connection whose event came
		// waits no more until it arms again.
		ready = ready[:0]
		w.mu.Lock()
		for _, ev := range events[:n] {
			if c := w.conns[ev.Fd]; c != nil {
				delete(w.conns, ev.Fd)
				ready = append(ready, c)
			}
		}
		w.mu.Unlock()
		for _, c := range ready {
			w.notify(c)
		}
		clear(ready)
	}
}

// fail records why run ended, unless stop ended it, and wakes every
// connection waiting: each tries its write again, and if the socket is
// still full its next arm fails the socket with w.broken rather than
// leave it waiting for a Writable that would never come.
func (w *watcher) fail(err error) {
	w.mu.Lock()
	if w.broken != nil { // stop's
		w.mu.Unlock()
		return
	}
	w.broken = &actor.OpError{Op: "epoll_wait", Kind: actor.ErrConnAborted,
		Err: fmt.Errorf("overlap: the writability watcher failed: %w", err)}
	waiting := w.conns
	w.conns = nil // arm adds nothing from now on
	w.mu.Unlock()
	for _, c := range waiting {
		w.notify(c)
	}
}

// errWatcherStopped is arm's error once the engine has stopped.
var errWatcherStopped = &actor.OpError{Op: "epoll_ctl", Kind: actor.ErrConnAborted, Err: errors.New("overlap: the engine has stopped")}

// stop ends the goroutine and closes the epoll instance.
func (w *watcher) stop() {
	w.mu.Lock()
	w.broken = errWatcherStopped
	w.mu.Unlock()
	_ = w.ep.Close()
	<-w.done
}
