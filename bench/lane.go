package main

import (
	"fmt"
	"net"
	"time"
)

// laneClient is the load generator of one lane: work runs each of its
// connections, and result is what it counted over the lane's windows.
type laneClient interface {
	work(id int, c net.Conn, p *phase) error
	result(w window) echoResult
}

// slices is how many turns each server's measured time is cut into: of
// about cfg.Slice each, at least one.
func (cfg config) slices() int {
	if cfg.Slice <= 0 {
		return 1
	}
	return max(1, int((cfg.Measure+cfg.Slice/2)/cfg.Slice))
}

// turn is how long each of those turns is.
func (cfg config) turn() time.Duration { return cfg.Measure / time.Duration(cfg.slices()) }

// runInterleaved runs scenario name rounds times with every contender. A
// round starts each contender's server (a process of its own, started with
// its flags), opens a lane of conns connections to each, with a client that
// newClient makes, and warms each lane up. Then it measures the servers in
// turn, a slice at a time, until each has had cfg.Measure; the order
// rotates each slice and each round. All of a round's servers are measured
// in the same stretch of the shared machine's time, so a drift in its
// speed falls on all of them alike, and their per-round ratios hold still.
func runInterleaved(cfg config, name string, cs []contender, conns int, newClient func() laneClient) (byKind, error) {
	fig := byKind{}
	for r := 0; r < cfg.Rounds; r++ {
		if err := interleaveRound(cfg, name, r, cs, conns, newClient, fig); err != nil {
			return nil, err
		}
	}
	progressDone()
	return fig, nil
}

// interleaveRound is round r of runInterleaved; it adds each contender's
// figures to fig.
func interleaveRound(cfg config, name string, r int, cs []contender, conns int, newClient func() laneClient, fig byKind) (err error) {
	n := len(cs)
	servers := make([]*server, n)
	lanes := make([]*lane, n)
	clients := make([]laneClient, n)
	defer func() {
		for i := range cs {
			if lanes[i] != nil {
				lanes[i].close()
			}
			if servers[i] != nil {
				if serr := servers[i].stop(); err == nil && serr != nil {
					err = fmt.Errorf("%s, %s: %v", name, cs[i].Label, serr)
				}
			}
		}
	}()
	for k := range cs {
		i := (k + r) % n
		c := cs[i]
		if servers[i], err = startServer(c.Kind, cfg.Loops, profilePath(c.Label, name, r), c.Args...); err != nil {
			return err
		}
		clients[i] = newClient()
		if lanes[i], err = openLane(servers[i], conns, clients[i].work); err != nil {
			return fmt.Errorf("%s, %s: %w", name, c.Label, err)
		}
		if err = lanes[i].warmUp(cfg.Warm); err != nil {
			return fmt.Errorf("%s, %s: warm-up: %w", name, c.Label, err)
		}
	}
	slices, d := cfg.slices(), cfg.turn()
	windows := make([]window, n)
	cpu0 := make([]cpuTimes, n)
	for i, l := range lanes {
		if cpu0[i], err = l.cpu(); err != nil {
			return err
		}
	}
	for s := 0; s < slices; s++ {
		for k := range cs {
			i := (k + s + r) % n
			elapsed, err := lanes[i].turn(d)
			if err != nil {
				return fmt.Errorf("%s, %s: %w", name, cs[i].Label, err)
			}
			windows[i].Elapsed += elapsed
		}
		progress("%s round %d/%d, slice %d/%d", name, r+1, cfg.Rounds, s+1, slices)
	}
	// A server's CPU time is taken over the whole round, from before its
	// first turn to after the last turn of all: what it does for a message
	// after the client has it back (a completion, a release) is counted
	// even when it runs after its turn. Between its turns it is idle.
	for i, l := range lanes {
		cpu1, err := l.cpu()
		if err != nil {
			return err
		}
		windows[i].ServerCPU = cpu1.sub(cpu0[i])
	}
	// Every turn ended with the workers parked and their errors taken
	// (phase.drain): closing the lanes can only add errors of the closing.
	for i, l := range lanes {
		l.close() // the workers hand in their latencies
		lanes[i] = nil
	}
	for i, c := range cs {
		res := clients[i].result(windows[i])
		if res.Msgs == 0 {
			return fmt.Errorf("%s, %s: no exchange completed in %v", name, c.Label, windows[i].Elapsed)
		}
		fig.of(c.Label).addResult(res)
		progress("%s round %d/%d %-10s %9.0f msgs/s %6.2f µs/msg (%.0f%% sys)",
			name, r+1, cfg.Rounds, c.Label, res.rate(), res.cpuPerMsg(), res.ServerCPU.sysShare()*100)
	}
	return nil
}
