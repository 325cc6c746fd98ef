package main

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// phase tells the workers of one lane (one server's connections) where the
// run is: whether they may start an exchange, whether what they complete
// is counted, and whether the run is over. They tell it when each has
// completed its first exchange, and it knows when all of them wait at its
// gate. The lane owns it; the workers call Pass, Warmed and Counting.
type phase struct {
	counting atomic.Bool
	open     atomic.Bool // the fast path of Pass: the gate is open

	mu      sync.Mutex
	stopped bool          // guarded by mu: the run is over
	live    int           // guarded by mu: workers that have not returned
	parked  int           // guarded by mu: workers waiting at the gate
	opened  chan struct{} // guarded by mu: closed when the gate opens or the run stops
	idle    chan struct{} // guarded by mu: if not nil, closed when every live worker is parked

	cold atomic.Int64  // workers that have not completed an exchange yet
	warm chan struct{} // closed when cold reaches 0
}

func newPhase(n int) *phase {
	p := &phase{live: n, opened: make(chan struct{}), warm: make(chan struct{})}
	p.cold.Store(int64(n))
	return p
}

// Pass is called by a worker before each exchange. It waits while the gate
// is closed, and reports whether the worker goes on (false: the run is
// over, return).
func (p *phase) Pass() bool {
	if p.open.Load() {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for !p.open.Load() && !p.stopped {
		p.parked++
		p.checkIdle()
		ch := p.opened
		p.mu.Unlock()
		<-ch
		p.mu.Lock()
		p.parked--
	}
	return !p.stopped
}

// checkIdle closes idle once every live worker is parked. Called with mu
// held.
func (p *phase) checkIdle() {
	if p.idle != nil && p.parked == p.live {
		close(p.idle)
		p.idle = nil
	}
}

// left is called once by each worker as it returns.
func (p *phase) left() {
	p.mu.Lock()
	p.live--
	p.checkIdle()
	p.mu.Unlock()
}

// Warmed is called by each worker once, after its first complete exchange.
func (p *phase) Warmed() {
	if p.cold.Add(-1) == 0 {
		close(p.warm)
	}
}

// Stopped reports whether the run is over.
func (p *phase) Stopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopped
}

// Counting reports whether what a worker completes now is measured.
func (p *phase) Counting() bool { return p.counting.Load() }

// openGate lets the workers start exchanges.
func (p *phase) openGate() {
	p.mu.Lock()
	p.open.Store(true)
	close(p.opened)
	p.opened = make(chan struct{})
	p.mu.Unlock()
}

// closeGate stops the workers at the gate and returns once every one of
// them waits there (or has returned): the server then has no exchange in
// flight. A worker's error on errc, or timeout, ends the wait.
func (p *phase) closeGate(errc <-chan error, timeout time.Duration) error {
	return p.drain(p.shut(), errc, timeout)
}

// shut closes the gate: the workers stop at it before their next exchange.
// The result is closed once every live worker is there.
func (p *phase) shut() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.open.Store(false)
	idle := make(chan struct{})
	p.idle = idle
	p.checkIdle()
	return idle
}

// drain waits for idle, the result of shut: for the exchanges in flight.
func (p *phase) drain(idle <-chan struct{}, errc <-chan error, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-idle:
		// A worker that failed has put its error on errc before it left,
		// perhaps just before idle closed: both may be ready.
		select {
		case err := <-errc:
			return err
		default:
			return nil
		}
	case err := <-errc:
		return err
	case <-t.C:
		p.mu.Lock()
		defer p.mu.Unlock()
		return fmt.Errorf("%d of %d connections still in an exchange %s after the gate closed", p.live-p.parked, p.live, timeout)
	}
}

// stop ends the run: parked workers return, and so do the others before
// their next exchange.
func (p *phase) stop() {
	p.mu.Lock()
	p.stopped = true
	p.open.Store(false) // Pass's fast path must not let a worker through
	close(p.opened)
	p.opened = make(chan struct{})
	p.mu.Unlock()
}

// warmCap bounds how long the warm-up waits for every connection's first
// exchange.
const warmCap = 30 * time.Second

// drainCap bounds how long a closed gate waits for the exchanges in flight.
const drainCap = 30 * time.Second

// window is the measured part of one run.
type window struct {
	Elapsed   time.Duration
	ServerCPU cpuTimes // the server process's CPU time over Elapsed
}

// lane is one server's connections, each run by a worker of its own that
// the lane's phase gates. Several lanes take turns in an interleaved run.
type lane struct {
	srv   *server
	conns []net.Conn
	p     *phase
	errc  chan error // the first error of each worker that fails before the end
	wg    sync.WaitGroup
}

// openLane dials n connections to srv and starts work on each, its gate
// closed.
func openLane(srv *server, n int, work func(id int, c net.Conn, p *phase) error) (*lane, error) {
	conns, err := dialAll(srv.addr, n)
	if err != nil {
		return nil, err
	}
	l := &lane{srv: srv, conns: conns, p: newPhase(n), errc: make(chan error, n)}
	for i, c := range conns {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			defer l.p.left()
			if err := work(i, c, l.p); err != nil && !l.p.Stopped() {
				l.errc <- err
			}
		}()
	}
	return l, nil
}

// warmUp opens the gate for warm, longer if need be until every worker
// has called p.Warmed() (at most warmCap), then closes it.
func (l *lane) warmUp(warm time.Duration) error {
	l.p.openGate()
	err := waitErr(l.errc, warm)
	if err == nil {
		select {
		case <-l.p.warm:
		case err = <-l.errc:
		case <-time.After(warmCap):
			err = fmt.Errorf("%d of %d connections completed no exchange in %s", l.p.cold.Load(), len(l.conns), warm+warmCap)
		}
	}
	if cerr := l.p.closeGate(l.errc, drainCap); err == nil {
		err = cerr
	}
	return err
}

// slice measures one turn of this lane with the server's CPU time over it:
// the server is idle when it starts (every worker at the closed gate), and
// the turn ends once every exchange in flight has completed and been
// counted (see turn).
func (l *lane) slice(d time.Duration) (window, error) {
	return cpuOver(l.srv, func() (time.Duration, error) { return l.turn(d) })
}

// turn opens the gate for d with counting on, then closes it and waits for
// the exchanges in flight, which are counted too. It returns how long that
// took.
func (l *lane) turn(d time.Duration) (time.Duration, error) {
	t0 := time.Now()
	l.p.counting.Store(true)
	l.p.openGate()
	err := waitErr(l.errc, d)
	if cerr := l.p.closeGate(l.errc, drainCap); err == nil {
		err = cerr
	}
	l.p.counting.Store(false)
	return time.Since(t0), err
}

// cpu is the server process's CPU time so far.
func (l *lane) cpu() (cpuTimes, error) { return cpuTime(l.srv.cmd.Process.Pid) }

// close ends the lane's run: the connections close, and the workers,
// blocked on them or not, return.
func (l *lane) close() {
	l.p.stop()
	closeAll(l.conns) // unblocks the workers, whatever deadline they set
	l.wg.Wait()
}

// drive runs one lane on srv alone: n connections, each running work in a
// goroutine of its own, a warm-up of warm (longer if need be until every
// worker has called p.Warmed(), at most warmCap), then one window of
// measure. The first error a worker returns before the end fails the run;
// errors after it (those of the connections closing) do not.
func drive(srv *server, n int, warm, measure time.Duration, work func(id int, c net.Conn, p *phase) error) (window, error) {
	l, err := openLane(srv, n, work)
	if err != nil {
		return window{}, err
	}
	defer l.close()
	if err := l.warmUp(warm); err != nil {
		return window{}, err
	}
	return l.slice(measure)
}

// waitErr waits d, or less if a worker's error arrives on errc first.
func waitErr(errc <-chan error, d time.Duration) error {
	select {
	case err := <-errc:
		return err
	case <-time.After(d):
		return nil
	}
}

// timeWindow is a run's measured window: on is true for measure (the
// workers count what they complete while it is), and the window's length
// and srv's CPU time over it come back. A worker's error on errc ends it.
func timeWindow(srv *server, errc <-chan error, on *atomic.Bool, measure time.Duration) (window, error) {
	return cpuOver(srv, func() (time.Duration, error) {
		t0 := time.Now()
		on.Store(true)
		err := waitErr(errc, measure)
		on.Store(false)
		return time.Since(t0), err
	})
}

// cpuOver runs measure, which returns how long it measured, and returns
// that with srv's CPU time over it.
func cpuOver(srv *server, measure func() (time.Duration, error)) (window, error) {
	pid := srv.cmd.Process.Pid
	cpu0, err := cpuTime(pid)
	if err != nil {
		return window{}, err
	}
	elapsed, err := measure()
	if err != nil {
		return window{}, err
	}
	cpu1, err := cpuTime(pid)
	if err != nil {
		return window{}, err
	}
	return window{Elapsed: elapsed, ServerCPU: cpu1.sub(cpu0)}, nil
}

// figures are one server's per-round figures in one scenario.
type figures struct{ rate, mbps, cpu, p50, p99, p999 []float64 }

// addResult appends one round's figures.
func (f *figures) addResult(res echoResult) {
	p := res.Latency.percentiles(0.5, 0.99, 0.999)
	f.rate = append(f.rate, res.rate())
	f.mbps = append(f.mbps, res.mbps())
	f.cpu = append(f.cpu, res.cpuPerMsg())
	f.p50 = append(f.p50, us(p[0]))
	f.p99 = append(f.p99, us(p[1]))
	f.p999 = append(f.p999, us(p[2]))
}

// byKind holds every server's figures in one scenario.
type byKind map[string]*figures

// of returns kind's figures, empty at first.
func (b byKind) of(kind string) *figures {
	f := b[kind]
	if f == nil {
		f = &figures{}
		b[kind] = f
	}
	return f
}
