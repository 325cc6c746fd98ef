package actor

import (
	"fmt"
	"testing"
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/internal/leaktest"
)

// waitClosed fails t unless ch is closed within testDeadline.
func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(testDeadline):
		t.Fatalf("%s: not within %v", what, testDeadline)
	}
}

// System.Dispatcher runs actors as protoactor's own dispatcher does: every
// message, each sender's in order, one at a time per actor; and its workers
// end with the System.
func TestDispatcherRunsActors(t *testing.T) {
	leaktest.Check(t)
	const actors, each = 16, 2000
	sys := NewSystem()
	defer sys.Stop()
	props := protoactor.PropsFromProducer(func() protoactor.Actor { return &countingActor{want: each, done: make(chan struct{})} },
		protoactor.WithDispatcher(sys.Dispatcher()))
	pids := make([]*protoactor.PID, actors)
	found := make([]*countingActor, actors)
	for i := range pids {
		ch := make(chan *countingActor, 1)
		pids[i] = sys.Actors.Root.Spawn(props)
		sys.Actors.Root.Send(pids[i], whoAreYou{ch})
		select {
		case found[i] = <-ch:
		case <-time.After(testDeadline):
			t.Fatalf("actor %d did not answer", i)
		}
	}
	for _, pid := range pids {
		go func() {
			for k := 0; k < each; k++ {
				sys.Actors.Root.Send(pid, k)
			}
		}()
	}
	for i, a := range found {
		waitClosed(t, a.done, fmt.Sprintf("actor %d's %d messages", i, each))
		if a.err != nil {
			t.Errorf("actor %d: %v", i, a.err)
		}
	}
	if w := sys.Dispatcher().(*workers); w.taken.Load() == 0 {
		t.Error("no mailbox ran on a worker")
	}
}

// whoAreYou asks a countingActor for itself.
type whoAreYou struct{ reply chan *countingActor }

// countingActor checks that the ints it gets come 0, 1, 2, ... and closes
// done after the want-th. Its fields are its own until done is closed.
type countingActor struct {
	next    int
	want    int
	running bool // inside Receive: a second, concurrent Receive sees it
	err     error
	done    chan struct{}
}

func (a *countingActor) Receive(ctx protoactor.Context) {
	if a.running && a.err == nil {
		a.err = fmt.Errorf("two Receives at once")
	}
	a.running = true
	defer func() { a.running = false }()
	switch m := ctx.Message().(type) {
	case whoAreYou:
		m.reply <- a
	case int:
		if m != a.next && a.err == nil {
			a.err = fmt.Errorf("message %d where %d was due", m, a.next)
		}
		a.next = m + 1
		if a.next == a.want {
			close(a.done)
		}
	}
}

// A worker held by a mailbox that blocks starves nobody: within a few
// multiples of workerStall, what waits for a worker is started on a
// goroutine of its own, and so is what comes after, until a worker is free.
func TestDispatcherBlockedWorkersDoNotStarve(t *testing.T) {
	leaktest.Check(t)
	w := newWorkers(2, 16)
	defer w.stop()
	release := make(chan struct{})
	held := make(chan struct{}, 2)
	for i := 0; i < 2; i++ {
		w.Schedule(func() {
			held <- struct{}{}
			<-release
		})
	}
	for i := 0; i < 2; i++ {
		select {
		case <-held:
		case <-time.After(testDeadline):
			t.Fatal("the workers did not take the blocking mailboxes")
		}
	}
	waited := make(chan struct{})
	w.Schedule(func() { close(waited) }) // queued: both workers are held
	waitClosed(t, waited, "a mailbox queued behind blocked workers")
	if !w.stalled.Load() {
		t.Error("the dispatcher ran a mailbox past its blocked workers without marking itself stalled")
	}
	after := make(chan struct{})
	w.Schedule(func() { close(after) })
	waitClosed(t, after, "a mailbox scheduled while the workers are held")
	// Freed, a worker takes mailboxes from the queue again.
	before := w.taken.Load()
	close(release)
	deadline := time.Now().Add(testDeadline)
	for w.taken.Load() == before {
		if time.Now().After(deadline) {
			t.Fatal("no worker took a mailbox after the blocked ones returned: the dispatcher stayed stalled")
		}
		probe := make(chan struct{})
		w.Schedule(func() { close(probe) })
		waitClosed(t, probe, "a mailbox after the workers were freed")
	}
}

// Schedule never blocks, even with every worker held and the queue full: it
// starts the mailbox on a goroutine of its own at once.
func TestDispatcherScheduleNeverBlocks(t *testing.T) {
	leaktest.Check(t)
	w := newWorkers(1, 1)
	defer w.stop()
	release := make(chan struct{})
	defer close(release)
	held := make(chan struct{})
	w.Schedule(func() {
		close(held)
		<-release
	})
	waitClosed(t, held, "the worker taking the blocking mailbox")
	queued := make(chan struct{})
	w.Schedule(func() { close(queued) }) // fills the queue of 1
	ran := make(chan struct{})
	returned := make(chan struct{})
	go func() {
		w.Schedule(func() { close(ran) })
		close(returned)
	}()
	waitClosed(t, returned, "Schedule with the queue full")
	waitClosed(t, ran, "the mailbox scheduled with the queue full")
	waitClosed(t, queued, "the queued mailbox")
}

// After System.Stop the dispatcher still runs what it is given, each on a
// goroutine of its own, and its workers are gone; a Dispatcher first asked
// for after Stop starts none.
func TestDispatcherAfterStop(t *testing.T) {
	leaktest.Check(t)
	sys := NewSystem()
	before := sys.Dispatcher()
	sys.Stop()
	late := NewSystem()
	late.Stop()
	for name, d := range map[string]protoactor.Dispatcher{"stopped": before, "made after Stop": late.Dispatcher()} {
		ran := make(chan struct{})
		d.Schedule(func() { close(ran) })
		waitClosed(t, ran, name+" dispatcher's Schedule")
		if w := d.(*workers); !w.closed {
			t.Errorf("%s dispatcher is not closed", name)
		}
	}
}

// The watchdog runs only while the dispatcher is in use: none before the
// first queued mailbox, and none once nothing has been queued for a while;
// the next queued mailbox starts it again.
func TestDispatcherWatchdogOnlyWhileUsed(t *testing.T) {
	leaktest.Check(t)
	ended := make(chan struct{}, 2)
	testHookWatchEnd = func() { ended <- struct{}{} }
	defer func() { testHookWatchEnd = nil }()
	w := newWorkers(1, 4)
	if w.watching.Load() {
		t.Fatal("a watchdog runs before anything was scheduled")
	}
	for round := 0; round < 2; round++ {
		ran := make(chan struct{})
		w.Schedule(func() { close(ran) })
		waitClosed(t, ran, "a scheduled mailbox")
		if !w.watching.Load() {
			t.Fatalf("round %d: no watchdog while mailboxes are queued", round)
		}
		if round == 1 {
			w.stop() // ends the second watchdog at once
		}
		select {
		case <-ended:
		case <-time.After(testDeadline):
			t.Fatalf("round %d: the watchdog did not end", round)
		}
		if round == 0 && w.watching.Load() {
			t.Fatal("the idle watchdog ended but still reads as running")
		}
	}
}
