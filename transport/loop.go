package transport

import (
	"context"
	"errors"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/panjf2000/gnet/v2"
	"github.com/panjf2000/gnet/v2/pkg/netpoll"
	"github.com/panjf2000/gnet/v2/pkg/queue"

	"github.com/overlapio/overlap/wsabuf"
)

// loopState is what overlap keeps per gnet event loop: the writev scratch, a
// way to post tasks to the loop without allocating, and the header of lent
// reads. All but stopped and the posted batch (under mu) are owned by the
// loop.
type loopState struct {
	// First, so that the header, which the loop writes on every lent
	// read, shares no line with the fields posters on other goroutines
	// read (it fills exactly two lines when the object starts on a 64-byte
	// boundary, as the 320-byte size class it falls in does).
	lentHdr wsabuf.Buf  // lent's first header, in this allocation: a read touches one page fewer
	stopped atomic.Bool // the engine is shutting down: tasks would never run
	mu      sync.Mutex  // guards queued and posted
	queued  []func()    // posted, not yet taken by the loop
	posted  bool        // a runBatch task is on its way to the loop, or running
	spare   []func()    // the loop's: its last batch, to queue in again
	el      gnet.EventLoop
	iov     iovecs
	poller  *netpoll.Poller // nil: fall back to EventLoop.Execute
	epfd    int             // gnet's epoll descriptor, -1 if unknown
	lent    *wsabuf.Buf     // the header reads are lent in (LendReceived); nil when its holders kept it
	watch   *watcher        // the engine's: waits for writability after partial writes
}

func newLoopState(el gnet.EventLoop, w *watcher) *loopState {
	ls := &loopState{el: el, epfd: -1, watch: w}
	ls.lent = &ls.lentHdr
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

// post runs fn on the loop, later, after the fns posted before it.
//
// Posts are batched: a post finds a batch task (runBatch) on its way to the
// loop or running there, and joins it, or triggers one. gnet's task queue
// allocates a node per task, so a broadcast that wakes every socket of a
// loop costs that loop about one allocation, not one per socket. A post that
// fails (the loop is gone) leaves its fn out.
func (ls *loopState) post(fn func()) error {
	if ls.stopped.Load() {
		return errLoopStopped
	}
	if ls.poller == nil {
		return ls.el.Execute(context.Background(), runnable(fn))
	}
	ls.mu.Lock()
	at := len(ls.queued)
	ls.queued = append(ls.queued, fn)
	first := !ls.posted
	ls.posted = true
	ls.mu.Unlock()
	if !first {
		return nil
	}
	err := ls.poller.Trigger(queue.LowPriority, runBatch, ls)
	if err != nil {
		// No batch task will run: the poller is closed, so the loop is
		// gone. Take fn back (at its own index: a failed re-trigger in
		// runBatch may have left others' fns ahead of it, and no batch
		// has run since, so the index holds) and refuse later posts. The
		// fns that joined meanwhile are the connections' close path's.
		ls.stopped.Store(true)
		ls.mu.Lock()
		ls.queued = append(ls.queued[:at], ls.queued[at+1:]...)
		ls.posted = false
		ls.mu.Unlock()
	}
	return err
}

// batchRounds bounds the rounds of one runBatch: fns posted while it runs
// are run in the next round, up to this many, then in a new task, so that
// the loop serves its connections' I/O in between.
const batchRounds = 4

// runBatch runs on the loop the fns posted to it (a *loopState), in order,
// round after round until none is left.
func runBatch(param any) error {
	ls := param.(*loopState)
	for round := 0; ; round++ {
		ls.mu.Lock()
		batch := ls.queued
		if len(batch) == 0 {
			ls.posted = false
			ls.mu.Unlock()
			return nil
		}
		if round == batchRounds {
			ls.mu.Unlock()
			if err := ls.poller.Trigger(queue.LowPriority, runBatch, ls); err != nil {
				ls.mu.Lock()
				ls.posted = false // the next post tries again
				ls.mu.Unlock()
			}
			return nil
		}
		ls.queued, ls.spare = ls.spare[:0], nil
		ls.mu.Unlock()
		for i, fn := range batch {
			fn()
			batch[i] = nil
			if i%yieldEvery == yieldEvery-1 {
				runtime.Gosched()
			}
		}
		ls.spare = batch
	}
}

// yieldEvery is how many posted fns a loop runs before it lets other
// goroutines have its processor (runtime.Gosched). A loop that writes to
// many sockets holds its processor for milliseconds, and the goroutines
// that feed it (a broadcaster, the senders) would wait for it: they could
// not add to the queues the loop is about to write, so every write would
// carry one message. Yielding lets them in, and their sends join the
// sockets' pending writes: under load, a socket's writev carries what
// came since its last one.
const yieldEvery = 32

var errLoopStopped = errors.New("overlap: the event loop has stopped")

type runnable func()

func (r runnable) Run(context.Context) error { r(); return nil }
