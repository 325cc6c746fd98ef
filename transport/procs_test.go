package transport

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"testing"
)

// withGOMAXPROCS sets GOMAXPROCS to n, with the environment variable unset,
// for the test; both are put back at cleanup. The spare-P accounting must be
// clean before the test and again after it (its engines stopped).
func withGOMAXPROCS(t *testing.T, n int) {
	t.Helper()
	checkSparePClean(t, "before the test")
	t.Setenv("GOMAXPROCS", "") // empty is unset to acquireSpareP
	prev := runtime.GOMAXPROCS(n)
	t.Cleanup(func() {
		checkSparePClean(t, "after the test")
		runtime.GOMAXPROCS(prev)
	})
}

// checkSparePClean fails t if some loops are still counted or a GOMAXPROCS
// of spareP's is still in force.
func checkSparePClean(t *testing.T, when string) {
	t.Helper()
	procs.mu.Lock()
	defer procs.mu.Unlock()
	if procs.loops != 0 || procs.set != 0 {
		t.Errorf("%s: %d loops counted, GOMAXPROCS %d of spareP's in force; want none", when, procs.loops, procs.set)
	}
}

// stopNow stops e within the test deadline.
func stopNow(t *testing.T, e *Engine) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	if err := e.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

// listenTCP has e listen on a free loopback port with an echo handler.
func listenTCP(t *testing.T, e *Engine) {
	t.Helper()
	if _, err := e.Listen("tcp", "127.0.0.1:0", echoProps()); err != nil {
		t.Fatal(err)
	}
}

func wantProcs(t *testing.T, when string, want int) {
	t.Helper()
	if got := runtime.GOMAXPROCS(0); got != want {
		t.Fatalf("%s: GOMAXPROCS = %d, want %d", when, got, want)
	}
}

// While listeners' loops run, GOMAXPROCS stays one above them, and when
// they stop it goes back to what the engine found; a GOMAXPROCS that
// already leaves a P spare is neither raised nor lowered.
func TestEngineKeepsAProcessorSpare(t *testing.T) {
	for _, c := range []struct {
		name  string
		procs int   // GOMAXPROCS before
		want  []int // after each listener of 2 loops starts
	}{
		{"raised", 2, []int{3, 5}},
		{"enough already", 4, []int{4}},
	} {
		t.Run(c.name, func(t *testing.T) {
			withGOMAXPROCS(t, c.procs)
			_, e := startEngine(t, Config{Loops: 2, SpareProcessor: true})
			wantProcs(t, "before any loop runs", c.procs)
			for i, want := range c.want {
				listenTCP(t, e)
				wantProcs(t, fmt.Sprintf("with %d listeners of 2 loops", i+1), want)
			}
			stopNow(t, e)
			wantProcs(t, "after Stop", c.procs)
		})
	}
}

// The dialing client's loops get their spare P too.
func TestDialerKeepsAProcessorSpare(t *testing.T) {
	withGOMAXPROCS(t, 2)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, e := startEngine(t, Config{Loops: 2, SpareProcessor: true})
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	if _, err := e.Dial(ctx, "tcp", ln.Addr().String(), echoProps()); err != nil {
		t.Fatal(err)
	}
	peer, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	wantProcs(t, "with the dialer's 2 loops", 3)
	stopNow(t, e)
	wantProcs(t, "after Stop", 2)
}

// Without Config.SpareProcessor, or with the GOMAXPROCS environment
// variable set, GOMAXPROCS is left alone.
func TestGOMAXPROCSLeftAloneWhenAsked(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
		env  string
	}{
		{"default", Config{Loops: 2}, ""},
		{"environment", Config{Loops: 2, SpareProcessor: true}, "2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			withGOMAXPROCS(t, 2)
			t.Setenv("GOMAXPROCS", c.env)
			_, e := startEngine(t, c.cfg)
			if _, err := e.Listen("tcp", "127.0.0.1:0", echoProps()); err != nil {
				t.Fatal(err)
			}
			wantProcs(t, "with 2 loops", 2)
			stopNow(t, e)
		})
	}
}

// A GOMAXPROCS someone else sets while the loops run is theirs: Stop does
// not put back the value the engine found.
func TestGOMAXPROCSSetMeanwhileIsKept(t *testing.T) {
	withGOMAXPROCS(t, 2)
	_, e := startEngine(t, Config{Loops: 2, SpareProcessor: true})
	listenTCP(t, e)
	wantProcs(t, "with 2 loops", 3)
	runtime.GOMAXPROCS(6)
	stopNow(t, e)
	wantProcs(t, "after Stop", 6)
}

// A listen that fails gives its reservation back.
func TestFailedListenGivesTheProcessorBack(t *testing.T) {
	withGOMAXPROCS(t, 2)
	_, e := startEngine(t, Config{Loops: 2, SpareProcessor: true})
	if _, err := e.Listen("tcp", "127.0.0.1:99999", echoProps()); err == nil {
		t.Fatal("Listen on port 99999 succeeded")
	}
	wantProcs(t, "after the failed Listen", 2)
}

// The accounting on its own: loops of several engines add up, a release
// lowers GOMAXPROCS only as far as the loops still running allow, and a
// second call of the same release does nothing.
func TestSparePAccounting(t *testing.T) {
	withGOMAXPROCS(t, 2)
	a := acquireSpareP(2)
	wantProcs(t, "2 loops", 3)
	b := acquireSpareP(2)
	wantProcs(t, "4 loops", 5)
	c := KeepProcessorSpare(1) // loops of a gnet server of one's own count too
	wantProcs(t, "5 loops", 6)
	a()
	wantProcs(t, "3 loops, the first 2 gone", 4)
	a()
	wantProcs(t, "the first 2 released again", 4)
	c()
	wantProcs(t, "2 loops", 3)
	b()
	wantProcs(t, "none", 2)
}
