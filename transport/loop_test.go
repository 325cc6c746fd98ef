package transport

import (
	"fmt"
	"reflect"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2/pkg/netpoll"
	"golang.org/x/sys/unix"
)

// The transport reaches into gnet v2.9.7's event loop for its poller (to post
// tasks without allocating, and to pause reading). This fails loudly if a
// gnet upgrade moves it.
func TestPollerLayout(t *testing.T) {
	_, e, _, _ := connectedPair(t, "tcp", "127.0.0.1:0", Config{Loops: 1}) // a connection, so the loop is running
	var found bool
	for _, br := range e.bridges() {
		br.mu.Lock()
		for _, ls := range br.loops {
			found = true
			if ls.poller == nil || ls.epfd < 0 {
				t.Fatalf("gnet's poller not found (poller %v, epfd %d)", ls.poller, ls.epfd)
			}
		}
		br.mu.Unlock()
	}
	if !found {
		t.Fatal("no event loop recorded")
	}
}

// loopOf returns the state of the engine's one event loop, once a
// connection has made it.
func loopOf(t *testing.T, e *Engine) *loopState {
	t.Helper()
	for _, br := range e.bridges() {
		br.mu.Lock()
		for _, ls := range br.loops {
			br.mu.Unlock()
			return ls
		}
		br.mu.Unlock()
	}
	t.Fatal("no event loop recorded")
	return nil
}

// Tasks posted to a loop from many goroutines at once, and from tasks on
// the loop itself, all run, each goroutine's in the order it posted them,
// however they were batched.
func TestPostRunsEveryTaskInOrder(t *testing.T) {
	_, e, _, _ := connectedPair(t, "tcp", "127.0.0.1:0", Config{Loops: 1}) // a connection, so the loop is running
	ls := loopOf(t, e)

	const posters, each = 4, 2000
	var next [posters + 1]int // the loop's: the next number due from each poster
	var failed atomic.Value
	done := make(chan struct{}, posters+1)
	check := func(p, n int) {
		if next[p] != n {
			failed.CompareAndSwap(nil, fmt.Sprintf("poster %d: task %d ran where %d was due", p, n, next[p]))
		}
		next[p]++
		if next[p] == each {
			done <- struct{}{}
		}
	}
	for p := 0; p < posters; p++ {
		go func() {
			for n := 0; n < each; n++ {
				if err := ls.post(func() { check(p, n) }); err != nil {
					failed.CompareAndSwap(nil, err.Error())
					return
				}
			}
		}()
	}
	// A chain of tasks that each post the next from the loop.
	var chain func(n int)
	chain = func(n int) {
		check(posters, n)
		if n+1 < each {
			_ = ls.post(func() { chain(n + 1) })
		}
	}
	if err := ls.post(func() { chain(0) }); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(30 * time.Second)
	for range posters + 1 {
		select {
		case <-done:
		case <-deadline:
			t.Fatalf("tasks still due after 30 s (%v)", failed.Load())
		}
	}
	if f := failed.Load(); f != nil {
		t.Fatal(f)
	}
}

// A loop running a long batch of posted tasks lets other goroutines have
// its processor every yieldEvery tasks, so that the goroutines feeding it
// (a broadcaster, senders) are not starved while it writes: with one
// processor, a goroutine the batch's first task starts runs before the
// batch is done. Without the yield it would wait for the loop to park.
func TestLoopYieldsToFeeders(t *testing.T) {
	_, e, _, _ := connectedPair(t, "tcp", "127.0.0.1:0", Config{Loops: 1}) // a connection, so the loop is running
	ls := loopOf(t, e)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))

	const tasks = 128           // a few multiples of yieldEvery; well under the 10 ms after which the runtime preempts the loop
	var fed atomic.Bool         // set by the goroutine the first task starts
	seen := make(chan int, 1)   // the first task that saw it
	done := make(chan struct{}) // closed by the last task
	release := make(chan struct{})
	if err := ls.post(func() { <-release }); err != nil { // the tasks below queue up behind it, in one batch
		t.Fatal(err)
	}
	for i := 0; i < tasks; i++ {
		if err := ls.post(func() {
			if i == 0 {
				go fed.Store(true)
			}
			if fed.Load() {
				select {
				case seen <- i:
				default:
				}
			}
			if i == tasks-1 {
				close(done)
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	close(release)
	select {
	case <-done:
	case <-time.After(testDeadline):
		t.Fatal("the batch did not finish")
	}
	select {
	case i := <-seen:
		if i > yieldEvery {
			t.Errorf("the feeder ran before task %d; want by task %d", i, yieldEvery)
		}
	default:
		t.Errorf("the feeder did not run during a batch of %d tasks: the loop kept its processor", tasks)
	}
}

// A post whose trigger fails (the loop's poller is gone) returns the error,
// takes its own fn back, and marks the loop stopped: the fn never runs, and
// later posts fail at once with errLoopStopped.
func TestPostToAGoneLoop(t *testing.T) {
	p, err := netpoll.OpenPoller()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// Make the poller's wake-up descriptor refuse writes, as a closed one
	// does, without freeing its number for another descriptor to take.
	efd := int(reflect.ValueOf(p).Elem().FieldByName("efd").Int())
	ro, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(ro)
	if err := unix.Dup3(ro, efd, unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	ls := &loopState{poller: p, epfd: -1}
	ran := false
	if err := ls.post(func() { ran = true }); err == nil {
		t.Fatal("a post to a loop whose poller cannot be woken succeeded")
	}
	ls.mu.Lock()
	queued, posted := len(ls.queued), ls.posted
	ls.mu.Unlock()
	if queued != 0 || posted || !ls.stopped.Load() {
		t.Fatalf("after the failed post: %d fns queued, posted %v, stopped %v; want 0, false, true", queued, posted, ls.stopped.Load())
	}
	if err := ls.post(func() { ran = true }); err != errLoopStopped {
		t.Fatalf("a post after the failure = %v, want errLoopStopped", err)
	}
	if ran {
		t.Fatal("a refused fn ran")
	}
}
