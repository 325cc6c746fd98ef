package transport

import (
	"context"
	"errors"
	"reflect"
	"sync/atomic"
	"unsafe"

	"github.com/panjf2000/gnet/v2"
	"github.com/panjf2000/gnet/v2/pkg/netpoll"
	"github.com/panjf2000/gnet/v2/pkg/queue"

	"github.com/overlapio/overlap/wsabuf"
)

// loopState is what overlap keeps per gnet event loop: the writev scratch, a
// way to post tasks to the loop without allocating, and the header of lent
// reads. All but stopped are owned by the loop.
type loopState struct {
	stopped atomic.Bool // the engine is shutting down: tasks would never run
	el      gnet.EventLoop
	iov     iovecs
	poller  *netpoll.Poller // nil: fall back to EventLoop.Execute
	epfd    int             // gnet's epoll descriptor, -1 if unknown
	lent    *wsabuf.Buf     // the header reads are lent in (LendReceived); nil when its holders kept it
	watch   *watcher        // the engine's: waits for writability after partial writes
}

func newLoopState(el gnet.EventLoop, w *watcher) *loopState {
	ls := &loopState{el: el, epfd: -1, watch: w}
	ls.poller, ls.epfd = pollerOf(el)
	return ls
}

// pollerOf finds the netpoll.Poller of a gnet v2.9.7 event loop. gnet's
// EventLoop.Execute wraps every task in a new closure; posting through the
// poller directly costs one queue node instead. The layout is checked by
// TestPollerLayout; if it ever changes, overlap falls back to Execute.
func pollerOf(el gnet.EventLoop) (*netpoll.Poller, int) {
	v := reflect.ValueOf(el)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil, -1
	}
	f := v.Elem().FieldByName("poller")
	if !f.IsValid() || f.Type() != reflect.TypeOf((*netpoll.Poller)(nil)) || f.IsNil() {
		return nil, -1
	}
	p := (*netpoll.Poller)(unsafe.Pointer(f.Pointer()))
	epfd := -1
	if fd := f.Elem().FieldByName("fd"); fd.IsValid() && fd.CanInt() {
		epfd = int(fd.Int())
	}
	return p, epfd
}

// runTask is the one task function posted to loops: its parameter is the
// func to run (a func value fits an interface without allocating).
func runTask(param any) error {
	param.(func())()
	return nil
}

// post runs fn on the loop, later.
func (ls *loopState) post(fn func()) error {
	if ls.stopped.Load() {
		return errLoopStopped
	}
	if ls.poller != nil {
		return ls.poller.Trigger(queue.LowPriority, runTask, fn)
	}
	return ls.el.Execute(context.Background(), runnable(fn))
}

var errLoopStopped = errors.New("overlap: the event loop has stopped")

type runnable func()

func (r runnable) Run(context.Context) error { r(); return nil }
