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
// that: when no worker has taken a mailbox for workerStall while some wait,
// the waiting ones are started on goroutines of their own, and so are new
// ones until a worker is free again. Keep actors that block on protoactor's
// default dispatcher.
//
// The workers start with the first call and end with Stop; after Stop the
// dispatcher starts every mailbox on a goroutine of its own, as the default
// one does.
func (s *System) Dispatcher() protoactor.Dispatcher {
	s.dispMu.Lock()
	defer s.dispMu.Unlock()
	if s.disp == nil {
		s.disp = newWorkers(runtime.GOMAXPROCS(0), workerQueue, defaultThroughput)
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

	taken      atomic.Uint64 // mailbox runs the workers have taken: the watchdog's mark of progress
	stalled    atomic.Bool   // the watchdog saw no progress: Schedule bypasses the queue until a worker takes one
	throughput int
}

var _ protoactor.Dispatcher = (*workers)(nil)

func newWorkers(n, depth, throughput int) *workers {
	w := &workers{queue: make(chan func(), depth), done: make(chan struct{}), throughput: throughput}
	for i := 0; i < n; i++ {
		go w.work()
	}
	go w.watch(workerStall)
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
func (w *workers) Throughput() int { return w.throughput }

// work runs queued mailboxes until stop has closed the queue and it is
// empty.
func (w *workers) work() {
	for fn := range w.queue {
		w.taken.Inc()
		fn()
		if w.stalled.Load() {
			w.stalled.Store(false) // a worker is free again
		}
	}
}

// watch checks every period that the workers take what waits for them; if
// none has been taken since the last check, it starts what waits on
// goroutines of its own and marks the dispatcher stalled.
func (w *workers) watch(period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	last := w.taken.Load()
	for {
		select {
		case <-w.done:
			return
		case <-t.C:
		}
		now := w.taken.Load()
		if now == last && len(w.queue) > 0 {
			w.stalled.Store(true)
			w.spill()
			now = w.taken.Load()
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
			w.taken.Inc()
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
