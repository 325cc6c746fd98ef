package main

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// phase tells the workers of one run where it is, and they tell it when
// each has completed its first exchange. drive owns it.
type phase struct {
	counting, stopped atomic.Bool
	cold              atomic.Int64  // workers that have not completed an exchange yet
	warm              chan struct{} // closed when cold reaches 0
}

// Warmed is called by each worker once, after its first complete exchange.
func (p *phase) Warmed() {
	if p.cold.Add(-1) == 0 {
		close(p.warm)
	}
}

// warmCap bounds how long the warm-up waits for every connection's first
// exchange.
const warmCap = 30 * time.Second

// Counting reports whether what a worker completes now is measured.
func (p *phase) Counting() bool { return p.counting.Load() }

// Stopped reports whether the run is over: a worker returns.
func (p *phase) Stopped() bool { return p.stopped.Load() }

// window is the measured part of one run.
type window struct {
	Elapsed   time.Duration
	ServerCPU cpuTimes // the server process's CPU time over Elapsed
}

// drive dials n connections to srv and runs work on each in a goroutine of
// its own: a warm-up of warm, longer if need be until every worker has
// called p.Warmed() (at most warmCap), then measure with p.Counting() true, then
// the connections' deadlines pass so blocked workers return. The first
// error a worker returns before the end fails the run; errors after it
// (the deadline's) do not.
func drive(srv *server, n int, warm, measure time.Duration, work func(id int, c net.Conn, p *phase) error) (window, error) {
	conns, err := dialAll(srv.addr, n)
	if err != nil {
		return window{}, err
	}
	defer closeAll(conns)
	p := &phase{warm: make(chan struct{})}
	p.cold.Store(int64(n))
	errc := make(chan error, n)
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := work(i, c, p); err != nil && !p.Stopped() {
				errc <- err
			}
		}()
	}
	defer func() {
		p.stopped.Store(true)
		for _, c := range conns {
			_ = c.SetDeadline(time.Now()) // unblock the workers
		}
		wg.Wait()
	}()
	if err := waitErr(errc, warm); err != nil {
		return window{}, err
	}
	select {
	case <-p.warm:
	case err := <-errc:
		return window{}, err
	case <-time.After(warmCap):
		return window{}, fmt.Errorf("%d of %d connections completed no exchange in %s", p.cold.Load(), n, warm+warmCap)
	}
	return timeWindow(srv, errc, &p.counting, measure)
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
	pid := srv.cmd.Process.Pid
	cpu0, err := cpuTime(pid)
	if err != nil {
		return window{}, err
	}
	t0 := time.Now()
	on.Store(true)
	err = waitErr(errc, measure)
	on.Store(false)
	elapsed := time.Since(t0)
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
