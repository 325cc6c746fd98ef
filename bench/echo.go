package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// echoScenario is one shape of echo load: conns connections, each keeping
// depth messages of size bytes in flight.
type echoScenario struct {
	Name               string
	Conns, Depth, Size int
}

var echoScenarios = []echoScenario{
	{"b: 100 conns × 8 × 128 B", 100, 8, 128},
	{"c: 1,000 conns × 1 × 512 B", 1000, 1, 512},
	{"a: 1 conn × 1 × 64 B", 1, 1, 64},
	{"d: 50 conns × 2 × 64 KiB", 50, 2, 64 << 10},
}

// echoResult is one measured run of one server.
type echoResult struct {
	Msgs      int64
	Bytes     int64 // payload echoed back, counted once
	Elapsed   time.Duration
	ServerCPU cpuTimes
	Latency   *latencies // round trips of one batch of Depth messages
}

func (r echoResult) rate() float64 { return float64(r.Msgs) / r.Elapsed.Seconds() }

// mbps is the echoed payload in MB (10⁶ bytes) per second.
func (r echoResult) mbps() float64 { return float64(r.Bytes) / 1e6 / r.Elapsed.Seconds() }

// cpuPerMsg is server CPU per message in microseconds.
func (r echoResult) cpuPerMsg() float64 {
	if r.Msgs == 0 {
		return 0
	}
	return float64(r.ServerCPU.total().Microseconds()) / float64(r.Msgs)
}

// server is a running server process.
type server struct {
	cmd  *exec.Cmd
	addr string
}

// baselineBin is the -baseline flag: another build's bench binary whose
// server of kind baselineKind (-baseline-kind) runs as kind "baseline".
var baselineBin, baselineKind string

// pinned is the -pin flag: servers on CPU 0, the load generator elsewhere.
var pinned bool

// startServer runs this program's "server" subcommand as a child process.
// A non-empty profile is where the server writes its CPU profile; extra
// are more flags for the server (-root DIR).
func startServer(kind string, loops int, profile string, extra ...string) (*server, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	if kind == "baseline" {
		exe, kind = baselineBin, baselineKind
	}
	args := []string{"server", "-kind", kind, "-addr", "127.0.0.1:0", "-loops", strconv.Itoa(loops), "-cpuprofile", profile}
	args = append(args, extra...)
	if pinned {
		args = append(args, "-cpus", "0")
	}
	cmd := exec.Command(exe, args...)
	addr, out, err := startListening(cmd)
	if err != nil {
		return nil, fmt.Errorf("server %s: %w", kind, err)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return &server{cmd: cmd, addr: addr}, nil
}

// startListening starts a server process and reads the "listening on ADDR"
// line it prints once it serves; the rest of its output is out's. A server
// that does not get that far is killed.
func startListening(cmd *exec.Cmd) (addr string, out *bufio.Reader, err error) {
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	out = bufio.NewReader(pipe)
	line, err := out.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "listening on ") {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return "", nil, fmt.Errorf("did not start: %q %v", line, err)
	}
	return strings.TrimSpace(strings.TrimPrefix(line, "listening on ")), out, nil
}

func (s *server) stop() error {
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		return fmt.Errorf("server did not stop on SIGINT")
	}
}

// echoClient is the verifying load generator of one echo lane. Its
// counters are shared by the lane's workers.
type echoClient struct {
	sc echoScenario
	m  meter // counts while the lane's phase says so (its own on is not used)
}

// work runs one connection: it writes a batch of Depth messages, reads it
// back and checks every byte, then the next, until the run is over.
func (e *echoClient) work(id int, c net.Conn, p *phase) error {
	out := make([]byte, e.sc.Depth*e.sc.Size)
	in := make([]byte, len(out))
	var rtts []time.Duration
	defer func() { e.m.lat.add(rtts) }()
	for seq := 0; p.Pass(); seq++ {
		fillPattern(out, id, seq)
		t0 := time.Now()
		_ = c.SetDeadline(t0.Add(30 * time.Second))
		if _, err := c.Write(out); err != nil {
			return err
		}
		if _, err := io.ReadFull(c, in); err != nil {
			return err
		}
		if !bytes.Equal(in, out) {
			return fmt.Errorf("conn %d round %d: echoed bytes differ: corruption, loss or reordering", id, seq)
		}
		if seq == 0 {
			p.Warmed()
		}
		if p.Counting() {
			e.m.msgs.Add(int64(e.sc.Depth))
			e.m.bytes.Add(int64(e.sc.Depth * e.sc.Size))
			if len(rtts) < maxSamplesPerConn {
				rtts = append(rtts, time.Since(t0))
			}
		}
	}
	return nil
}

// result is what the client counted over w, the lane's measured windows.
// Call it once the lane is closed: the workers hand in their latencies as
// they return.
func (e *echoClient) result(w window) echoResult { return e.m.result(w) }

// fillPattern writes bytes that depend on the connection and round, so a
// byte echoed to the wrong connection or round is caught.
func fillPattern(b []byte, id, seq int) {
	x := uint32(id*2654435761) ^ uint32(seq*40503)
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = byte(x >> 24)
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// pairedRatio is the median over rounds of a[i]/b[i], with their range: each ratio compares
// two servers measured minutes apart at most, so drift in the shared
// machine's speed cancels out better than in a ratio of medians.
func pairedRatio(a, b []float64) paired {
	r := make([]float64, 0, len(a))
	for i := range a {
		if i < len(b) && b[i] > 0 {
			r = append(r, a[i]/b[i])
		}
	}
	if len(r) == 0 {
		return paired{}
	}
	return paired{median(r), slices.Min(r), slices.Max(r)}
}

// runEchoMatrix runs the echo scenarios named by letters, rounds times each
// with every server kind in turn.
func runEchoMatrix(cfg config, letters string) (section, error) {
	sec := section{
		Title: "Echo",
		Note: "Each connection writes a batch of depth messages and reads the batch back before the next; " +
			"the load generator checks every byte. Latency is the round trip of one batch. " +
			"In a round, every server runs with its connections open, and the servers take turns of " + cfg.turn().String() +
			", the order rotating each turn: " +
			"a turn starts with the server idle, lets the connections go for its time, then waits for the batches in flight, " +
			"which count; a server's CPU is taken from before its first turn to after the round's last, so it covers all the work " +
			"of the messages it counted, and between turns the server is idle. " +
			"CPU is the server process's user+system time from /proc. Figures are medians over rounds; ratios are medians of per-round ratios. " +
			"Under each multi-connection target against net.Conn, a ceiling row gives raw gnet's ratio in overlap's place: what any design on gnet reaches in this run.",
		Header: []string{"scenario", "server", "msgs/s", "MB/s", "p50 µs", "p99 µs", "p999 µs", "server CPU µs/msg",
			"msgs/s vs net.Conn", "CPU/msg vs net.Conn", "msgs/s vs gnet", "CPU/msg vs gnet"},
	}
	for _, sc := range echoScenarios {
		if !strings.Contains(letters, sc.Name[:1]) {
			continue
		}
		if cfg.Quick && sc.Conns > 100 {
			sc.Conns = 100 // a quick run's scenario c: fewer connections, same shape
			sc.Name = strings.Replace(sc.Name, "1,000 conns", "100 conns", 1)
		}
		fig, err := runInterleaved(cfg, sc.Name, kindContenders(cfg.Kinds), sc.Conns, func() laneClient {
			return &echoClient{sc: sc}
		})
		if err != nil {
			return sec, err
		}
		nc, gn := fig["netconn"], fig["gnet"]
		for _, kind := range cfg.Kinds {
			f := fig[kind]
			sec.Rows = append(sec.Rows, []string{sc.Name, kind,
				fmt.Sprintf("%.0f", median(f.rate)), fmt.Sprintf("%.1f", median(f.mbps)),
				fmt.Sprintf("%.0f", median(f.p50)), fmt.Sprintf("%.0f", median(f.p99)), fmt.Sprintf("%.0f", median(f.p999)),
				fmt.Sprintf("%.2f", median(f.cpu)),
				fmt.Sprintf("%.2f", pairedRatio(f.rate, nc.rate).Value), fmt.Sprintf("%.2f", pairedRatio(f.cpu, nc.cpu).Value),
				fmt.Sprintf("%.2f", pairedRatio(f.rate, gn.rate).Value), fmt.Sprintf("%.2f", pairedRatio(f.cpu, gn.cpu).Value),
			})
		}
		if fig["overlap"] != nil {
			sec.Ratios = append(sec.Ratios, echoRatios(sc, fig)...)
		}
	}
	return sec, nil
}

// echoRatios is scenario sc's ratios, with their targets: overlap's
// against net.Conn and raw gnet, with raw gnet's own ratio against net.Conn
// as the ceiling under each multi-connection target against net.Conn, and
// for one connection p50 latency.
func echoRatios(sc echoScenario, fig byKind) []ratio {
	o, nc, gn := fig["overlap"], fig["netconn"], fig["gnet"]
	id := "echo " + sc.Name[:1]
	if sc.Conns == 1 {
		return []ratio{
			{Label: id + " msgs/s vs net.Conn", paired: pairedRatio(o.rate, nc.rate)},
			{Label: id + " net.Conn CPU/msg ÷ overlap's", paired: pairedRatio(nc.cpu, o.cpu)},
			{Label: id + " msgs/s vs gnet", paired: pairedRatio(o.rate, gn.rate), Target: 0.95},
			{Label: id + " gnet CPU/msg ÷ overlap's", paired: pairedRatio(gn.cpu, o.cpu), Target: 0.95},
			// p50 latency ≤ 1.3× net.Conn's, as net.Conn's over overlap's.
			{Label: id + " net.Conn p50 ÷ overlap's", paired: pairedRatio(nc.p50, o.p50), Target: 1 / 1.3},
		}
	}
	return []ratio{
		{Label: id + " msgs/s vs net.Conn", paired: pairedRatio(o.rate, nc.rate), Target: 1},
		{Label: id + " ↳ ceiling: raw gnet's msgs/s vs net.Conn", paired: pairedRatio(gn.rate, nc.rate), Ceiling: true},
		{Label: id + " net.Conn CPU/msg ÷ overlap's", paired: pairedRatio(nc.cpu, o.cpu), Target: 1},
		{Label: id + " ↳ ceiling: net.Conn CPU/msg ÷ raw gnet's", paired: pairedRatio(nc.cpu, gn.cpu), Ceiling: true},
		{Label: id + " msgs/s vs gnet", paired: pairedRatio(o.rate, gn.rate), Target: 0.95},
		{Label: id + " gnet CPU/msg ÷ overlap's", paired: pairedRatio(gn.cpu, o.cpu), Target: 0.95},
	}
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
