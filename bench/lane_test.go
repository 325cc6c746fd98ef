package main

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A closed gate waits for the exchanges in flight, which are still
// counted, and stops the workers before their next one; stop ends them.
func TestPhaseGateDrainsThenHolds(t *testing.T) {
	const n = 2
	p := newPhase(n)
	started := make(chan struct{}, n)
	release := make(chan struct{})
	var counted, exchanges atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer p.left()
			for p.Pass() {
				exchanges.Add(1)
				started <- struct{}{}
				<-release
				if p.Counting() {
					counted.Add(1)
				}
			}
		}()
	}
	p.counting.Store(true)
	p.openGate()
	for i := 0; i < n; i++ {
		<-started
	}
	idle := p.shut()
	select {
	case <-idle:
		t.Fatalf("the gate is idle with %d exchanges in flight", n)
	default: // both workers are blocked on release: it cannot be
	}
	closed := make(chan error, 1)
	go func() { closed <- p.drain(idle, nil, 10*time.Second) }()
	close(release)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if got := counted.Load(); got != n {
		t.Errorf("%d exchanges counted, want the %d in flight when the gate closed", got, n)
	}
	if got := exchanges.Load(); got != n {
		t.Errorf("%d exchanges started, want %d: none after the gate closed", got, n)
	}
	p.stop()
	waitWithin(t, &wg, 10*time.Second)
}

// A worker that fails puts its error on errc and then leaves; closing the
// gate right after returns that error, every time, though every live worker
// is (trivially) at the gate.
func TestPhaseGateReportsTheLastWorkersError(t *testing.T) {
	for i := 0; i < 100; i++ {
		p := newPhase(1)
		errc := make(chan error, 1)
		want := errors.New("echoed bytes differ")
		errc <- want
		p.left()
		if err := p.closeGate(errc, 10*time.Second); err != want {
			t.Fatalf("try %d: closeGate returned %v, want the worker's error", i, err)
		}
	}
}

// waitWithin waits for wg, failing the test if that takes longer than d.
func waitWithin(t *testing.T, wg *sync.WaitGroup, d time.Duration) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("workers still running %v after the run stopped", d)
	}
}

// A gate that closes while a worker is stuck in an exchange gives up after
// its timeout, with an error that says so.
func TestPhaseGateTimesOut(t *testing.T) {
	p := newPhase(1)
	stuck, in := make(chan struct{}), make(chan struct{}, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer p.left()
		for p.Pass() {
			in <- struct{}{}
			<-stuck
		}
	}()
	p.openGate()
	<-in
	if err := p.closeGate(nil, 50*time.Millisecond); err == nil {
		t.Error("closeGate returned nil with a worker in an exchange")
	}
	p.stop()
	close(stuck)
	waitWithin(t, &wg, 10*time.Second)
}

// A server's measured time is cut into turns of about -slice, at least
// one, whole turns only: the rounding goes to the nearest count.
func TestTurns(t *testing.T) {
	for _, c := range []struct {
		measure, slice time.Duration
		slices         int
		turn           time.Duration
	}{
		{time.Second, 250 * time.Millisecond, 4, 250 * time.Millisecond},
		{time.Second, 0, 1, time.Second},
		{time.Second, 2 * time.Second, 1, time.Second},
		{time.Second, 300 * time.Millisecond, 3, time.Second / 3},
		{time.Second, 400 * time.Millisecond, 3, time.Second / 3}, // 2.5 rounds up
	} {
		cfg := config{Measure: c.measure, Slice: c.slice}
		if n, d := cfg.slices(), cfg.turn(); n != c.slices || d != c.turn {
			t.Errorf("measure %v, slice %v: %d turns of %v, want %d of %v", c.measure, c.slice, n, d, c.slices, c.turn)
		}
	}
}

// The echo family, once and tiny (scenario a): every server process starts,
// they take turns of 50 ms, and each one's echoed bytes are checked and
// counted.
func TestEchoFamily(t *testing.T) {
	noRaceExitSleep(t)
	cfg := tinyConfig
	cfg.Slice = 50 * time.Millisecond
	if cfg.slices() != 4 {
		t.Fatalf("%d slices of %v in %v, want 4", cfg.slices(), cfg.Slice, cfg.Measure)
	}
	sec, err := runEchoMatrix(cfg, "a")
	if err != nil {
		t.Fatal(err)
	}
	checkSection(t, sec, "overlap", "gnet", "netconn")
}

// stop ends the run even while the gate is open: a worker's next Pass
// returns false, not a last exchange.
func TestPhaseStopWithTheGateOpen(t *testing.T) {
	p := newPhase(1)
	p.openGate()
	if !p.Pass() {
		t.Fatal("Pass through an open gate returned false")
	}
	p.stop()
	if p.Pass() {
		t.Error("Pass after stop, with the gate open, let the worker go on")
	}
}
