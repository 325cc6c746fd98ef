package main

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// meter counts what a client has checked while a run's measured window is
// open. Its counters are shared by the client's goroutines.
type meter struct {
	on          atomic.Bool // the measured window is open
	msgs, bytes atomic.Int64
	lat         latencies
}

// add counts msgs messages of bytes bytes, if the window is open, and
// reports whether it was.
func (m *meter) add(msgs, bytes int64) bool {
	if !m.on.Load() {
		return false
	}
	m.msgs.Add(msgs)
	m.bytes.Add(bytes)
	return true
}

// measure lets a client that is already running warm up, then counts its
// messages (m) and srv's CPU time for measure. An error from the client
// (errc) ends the run.
func (m *meter) measure(srv *server, errc <-chan error, warm, measure time.Duration) (echoResult, error) {
	if err := waitErr(errc, warm); err != nil {
		return echoResult{}, err
	}
	w, err := timeWindow(srv, errc, &m.on, measure)
	if err != nil {
		return echoResult{}, err
	}
	return m.result(w), nil
}

// result is what m counted over w, the run's measured window.
func (m *meter) result(w window) echoResult {
	return echoResult{Msgs: m.msgs.Load(), Bytes: m.bytes.Load(), Elapsed: w.Elapsed, ServerCPU: w.ServerCPU, Latency: &m.lat}
}

// dialAll opens n connections to addr, or none.
func dialAll(addr string, n int) ([]net.Conn, error) {
	conns := make([]net.Conn, 0, n)
	for i := 0; i < n; i++ {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			closeAll(conns)
			return nil, fmt.Errorf("connection %d: %w", i, err)
		}
		conns = append(conns, c)
	}
	return conns, nil
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		c.Close()
	}
}

// runPush is the client of a push family: it opens a lane of conns
// connections to srv, runs read on each in a goroutine of its own (read
// checks what the server sends and counts it in m until its connection
// fails), measures, then closes the lane. A read that fails before that
// fails the run, and so does a run in which nothing arrived. The lane's
// gate is not used: a push client only reads.
func runPush(srv *server, conns int, warm, measure time.Duration, read func(id int, c net.Conn, m *meter) error) (echoResult, error) {
	var m meter
	arrived := make(chan struct{}, conns)
	l, err := openLane(srv, conns, func(id int, c net.Conn, _ *phase) error {
		err := read(id, &firstRead{Conn: c, arrived: arrived}, &m)
		if err == nil {
			err = errors.New("its reader returned")
		}
		return fmt.Errorf("connection %d: %w", id, err)
	})
	if err != nil {
		return echoResult{}, err
	}
	res, err := echoResult{}, awaitAll(arrived, conns, l.errc, 10*time.Second)
	if err == nil {
		res, err = m.measure(srv, l.errc, warm, measure)
	}
	l.close()
	if err == nil && res.Msgs == 0 {
		err = fmt.Errorf("nothing arrived in %v", measure)
	}
	return res, err
}

// firstRead is a connection that says when its first bytes have arrived.
type firstRead struct {
	net.Conn
	once    sync.Once
	arrived chan<- struct{}
}

func (c *firstRead) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.once.Do(func() { c.arrived <- struct{}{} })
	}
	return n, err
}

// awaitAll waits until n connections have had their first bytes (before
// that, a server still accepting them would be measured), a client fails,
// or timeout passes.
func awaitAll(arrived <-chan struct{}, n int, errc <-chan error, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for i := 0; i < n; i++ {
		select {
		case <-arrived:
		case err := <-errc:
			return err
		case <-deadline.C:
			return fmt.Errorf("%d of %d connections had nothing in %v", n-i, n, timeout)
		}
	}
	return nil
}

// contender is one server a family compares: a kind, with flags of its
// own, under a label.
type contender struct {
	Label string   // the table's server column
	Kind  string   // the server kind (serverKinds)
	Args  []string // server flags beyond the scenario's
}

// kindContenders is one contender per kind, labelled by the kind.
func kindContenders(kinds []string) []contender {
	cs := make([]contender, len(kinds))
	for i, k := range kinds {
		cs[i] = contender{Label: k, Kind: k}
	}
	return cs
}

// runRounds runs scenario name with every contender, rounds times, each
// server in a process of its own started with args and its own flags, and
// driven by run. The order rotates each round so that no server always
// runs first (or right after another one's connections are torn down).
func runRounds(cfg config, name string, args []string, cs []contender, run func(*server) (echoResult, error)) (byKind, error) {
	fig := byKind{}
	for r := 0; r < cfg.Rounds; r++ {
		for i := range cs {
			c := cs[(i+r)%len(cs)]
			srv, err := startServer(c.Kind, cfg.Loops, profilePath(c.Label, name, r), append(append([]string(nil), args...), c.Args...)...)
			if err != nil {
				return nil, err
			}
			res, err := run(srv)
			if serr := srv.stop(); err == nil && serr != nil {
				err = fmt.Errorf("%s: %v", c.Label, serr)
			}
			if err != nil {
				return nil, fmt.Errorf("%s, %s: %w", name, c.Label, err)
			}
			fig.of(c.Label).addResult(res)
			p := res.Latency.percentiles(0.5)
			progress("%s round %d/%d %-10s %9.0f msgs/s %6.2f µs/msg (%.0f%% sys) p50 %.0f µs",
				name, r+1, cfg.Rounds, c.Label, res.rate(), res.cpuPerMsg(), res.ServerCPU.sysShare()*100, us(p[0]))
		}
	}
	progressDone()
	return fig, nil
}

// pushRow is the table row of a push family's contender: msgs/s, MB/s,
// server CPU per message, and those against the baseline base.
func pushRow(scenario, label string, f, base *figures) []string {
	return []string{scenario, label,
		fmt.Sprintf("%.0f", median(f.rate)), fmt.Sprintf("%.1f", median(f.mbps)), fmt.Sprintf("%.2f", median(f.cpu)),
		fmt.Sprintf("%.2f", pairedRatio(f.rate, base.rate).Value), fmt.Sprintf("%.2f", pairedRatio(base.cpu, f.cpu).Value)}
}
