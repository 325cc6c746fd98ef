package actor

import (
	"runtime"
	"sync"
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"
	"go.uber.org/atomic"
)

// Dispatcher returns the system's dispatcher for actors that send to
// sockets: give it to their Props with protoactor.WithDispatcher.
//
// protoactor's default dispatcher starts a goroutine each time an idle
// actor gets a message, and that goroutine's stack grows again through the
// actor's send path: for an actor that sends a block of frames each time a
// Completion comes back, that is most of its cost. This one runs mailboxes
// on GOMAXPROCS long-lived worker goroutines that take them from a queue
// one after the other, with their stacks already grown. In the fan-in
// benchmark (64 actors sending 64 B frames to one socket, reusing their
// Send messages) it cut the server's CPU per frame from 0.77 to 0.55 µs.
//
// Its actors must not block, as a socket's handler must not: an actor runs
// on its worker until its mailbox is empty, so one that blocks, or that
// never runs out of messages, holds that worker. Nothing waits forever for
// that: when every worker has been held for 10 ms while mailboxes wait,
// the waiting ones are started on goroutines of their own, and so are new
// ones until a worker is free again. Keep actors that block on protoactor's
// default dispatcher. The watchdog that sees to this runs only while
// mailboxes are being queued: an idle dispatcher costs no wake-ups.
//
// The workers start with the first call and end with Stop; after Stop the
// dispatcher starts every mailbox on a goroutine of its own, as the default
// one does.
func (s *System) Dispatcher() protoactor.Dispatcher {
	s.dispMu.Lock()
	defer s.dispMu.Unlock()
	if s.disp == nil {
		s.disp = newWorkers(runtime.GOMAXPROCS(0), workerQueue)
		if s.stopped.Load() {
			s.disp.stop()
		}
	}
	return s.disp
}

// stopDispatcher ends the workers, if they were started.
func (s *System) stopDispatcher() {
	s.dispMu.Lock()
	defer s.dispMu.Unlock()
	if s.disp != nil {
		s.disp.stop()
	}
}

const (
	// workerQueue is how many mailboxes may wait for a worker; past it, a
	// mailbox is started on a goroutine of its own.
	workerQueue = 1024
	// defaultThroughput is protoactor's: the messages a mailbox runs
	// before it lets other goroutines have the processor.
	defaultThroughput = 300
	// workerStall is how long mailboxes wait while no worker takes one
	// before they are started on goroutines of their own.
	workerStall = 10 * time.Millisecond
)

// workers is the dispatcher System.Dispatcher returns: mailbox runs queued
// for a fixed set of goroutines, with a watchdog that starts them on
// goroutines of their own when the workers are all held.
type workers struct {
	mu     sync.RWMutex // guards closed; Schedule sends on queue under RLock, stop closes it under Lock
	closed bool
	queue  chan func()
	done   chan struct{} // closed by stop: ends the watchdog

	n        int32         // workers
	busy     atomic.Int32  // workers running a mailbox
	taken    atomic.Uint64 // mailbox runs the workers have taken: the watchdog's mark of progress
	stalled  atomic.Bool   // the watchdog found every worker held: Schedule bypasses the queue until one is free
	watching atomic.Bool   // a watchdog runs; it runs only while the dispatcher is in use
}

var _ protoactor.Dispatcher = (*workers)(nil)

// watchIdle is how many periods of workerStall the watchdog runs on with
// nothing queued before it ends; the next queued mailbox starts it again.
const watchIdle = 50

// testHookWatchEnd, when set by a test, is called when a watchdog ends.
var testHookWatchEnd func()

func newWorkers(n, depth int) *workers {
	w := &workers{queue: make(chan func(), depth), done: make(chan struct{}), n: int32(n)}
	for i := 0; i < n; i++ {
		go w.work()
	}
	return w
}

// Schedule implements protoactor.Dispatcher. It never blocks: it is called
// from senders and from the event loops.
func (w *workers) Schedule(fn func()) {
	if !w.stalled.Load() {
		w.mu.RLock()
		if !w.closed {
			select {
			case w.queue <- fn:
				if !w.watching.Load() && w.watching.CompareAndSwap(false, true) {
					go w.watch()
				}
				w.mu.RUnlock()
				return
			default: // full
			}
		}
		w.mu.RUnlock()
	}
	go fn()
}

// Throughput implements protoactor.Dispatcher.
func (w *workers) Throughput() int { return defaultThroughput }

// work runs queued mailboxes until stop has closed the queue and it is
// empty.
func (w *workers) work() {
	for fn := range w.queue {
		w.taken.Inc()
		w.busy.Inc()
		fn()
		w.busy.Dec()
		if w.stalled.Load() {
			w.stalled.Store(false) // a worker is free again
		}
	}
}

// watch checks every workerStall that the workers take what waits for them.
// If every worker is held and none has taken a mailbox for a whole period
// while some wait, it starts those on goroutines of their own and marks the
// dispatcher stalled. It ends after watchIdle periods with nothing queued.
func (w *workers) watch() {
	if testHookWatchEnd != nil {
		defer testHookWatchEnd()
	}
	t := time.NewTicker(workerStall)
	defer t.Stop()
	last, idle := w.taken.Load(), 0
	for {
		select {
		case <-w.done:
			return
		case <-t.C:
		}
		now := w.taken.Load()
		switch {
		case len(w.queue) == 0:
			if idle++; idle < watchIdle {
				break
			}
			w.watching.Store(false)
			// A mailbox queued before the store saw a watchdog running:
			// stay for it, unless a new watchdog has started.
			if len(w.queue) == 0 || !w.watching.CompareAndSwap(false, true) {
				return
			}
			idle = 0
		case now == last && w.busy.Load() >= w.n:
			idle = 0
			w.stalled.Store(true)
			w.spill()
		default:
			idle = 0
		}
		last = now
	}
}

// spill starts every waiting mailbox on a goroutine of its own.
func (w *workers) spill() {
	for {
		select {
		case fn, ok := <-w.queue:
			if !ok {
				return
			}
			go fn()
		default:
			return
		}
	}
}

// stop closes the queue: the workers run what is in it and end, and later
// mailboxes start on goroutines of their own.
func (w *workers) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	w.closed = true
	close(w.queue)
	close(w.done)
}
