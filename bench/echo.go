package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	Elapsed   time.Duration
	ServerCPU cpuTimes
}

func (r echoResult) rate() float64 { return float64(r.Msgs) / r.Elapsed.Seconds() }

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
// A non-empty profile is where the server writes its CPU profile.
func startServer(kind string, loops int, profile string) (*server, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	if kind == "baseline" {
		exe, kind = baselineBin, baselineKind
	}
	args := []string{"server", "-kind", kind, "-addr", "127.0.0.1:0", "-loops", strconv.Itoa(loops), "-cpuprofile", profile}
	if pinned {
		args = append(args, "-cpus", "0")
	}
	cmd := exec.Command(exe, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "listening on ") {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("server %s did not start: %q %v", kind, line, err)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return &server{cmd: cmd, addr: strings.TrimSpace(strings.TrimPrefix(line, "listening on "))}, nil
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

// runEcho drives srv with sc for warm+measure and verifies every byte.
func runEcho(srv *server, sc echoScenario, warm, measure time.Duration) (echoResult, error) {
	conns := make([]net.Conn, sc.Conns)
	for i := range conns {
		c, err := net.Dial("tcp", srv.addr)
		if err != nil {
			for _, c := range conns[:i] {
				c.Close()
			}
			return echoResult{}, err
		}
		conns[i] = c
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	var counting atomic.Bool
	var msgs atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, sc.Conns)
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func(id int, c net.Conn) {
			defer wg.Done()
			out := make([]byte, sc.Depth*sc.Size)
			in := make([]byte, len(out))
			for seq := 0; ctx.Err() == nil; seq++ {
				fillPattern(out, id, seq)
				_ = c.SetDeadline(time.Now().Add(30 * time.Second))
				if _, err := c.Write(out); err != nil {
					errc <- err
					return
				}
				if _, err := io.ReadFull(c, in); err != nil {
					errc <- err
					return
				}
				if !bytes.Equal(in, out) {
					errc <- fmt.Errorf("conn %d round %d: echoed bytes differ: corruption, loss or reordering", id, seq)
					return
				}
				if counting.Load() {
					msgs.Add(int64(sc.Depth))
				}
			}
		}(i, c)
	}
	pid := srv.cmd.Process.Pid
	wait := func(d time.Duration) error {
		select {
		case err := <-errc:
			return err
		case <-time.After(d):
			return nil
		}
	}
	if err := wait(warm); err != nil {
		return echoResult{}, err
	}
	cpu0, err := cpuTime(pid)
	if err != nil {
		return echoResult{}, err
	}
	t0 := time.Now()
	counting.Store(true)
	if err := wait(measure); err != nil {
		return echoResult{}, err
	}
	counting.Store(false)
	elapsed := time.Since(t0)
	cpu1, err := cpuTime(pid)
	if err != nil {
		return echoResult{}, err
	}
	cancel()
	for _, c := range conns {
		_ = c.SetDeadline(time.Now()) // unblock the readers
	}
	wg.Wait()
	return echoResult{Msgs: msgs.Load(), Elapsed: elapsed, ServerCPU: cpu1.sub(cpu0)}, nil
}

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

// pairedRatio is the median over rounds of a[i]/b[i]: each ratio compares
// two servers measured minutes apart at most, so drift in the shared
// machine's speed cancels out better than in a ratio of medians.
func pairedRatio(a, b []float64) float64 {
	r := make([]float64, 0, len(a))
	for i := range a {
		if i < len(b) && b[i] > 0 {
			r = append(r, a[i]/b[i])
		}
	}
	return median(r)
}

// sysShare is the kernel's share of the server's CPU time.
func (r echoResult) sysShare() float64 {
	if t := r.ServerCPU.total(); t > 0 {
		return float64(r.ServerCPU.sys) / float64(t)
	}
	return 0
}
