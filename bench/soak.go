package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The soak: go run ./bench soak [-duration 10m] [-conns 2000] [-every 5s].
//
// It starts the soak server (soak_server.go) in its own process and keeps
// -conns connections busy against it: each sends messages of random size,
// reads each echo back and checks every byte, and after a random number of
// them closes, gracefully or (-abort percent of the time) abortively with an
// echo still on its way, which makes the server's send fail; then it
// connects again. Every -every it prints the server's RSS, goroutines, open
// file descriptors and sockets, the sends and completions it counted, the
// bytes verified and the reconnections.
//
// At the end it stops the clients, waits for the server to close every
// socket, and judges:
//   - completions == sends: every echo the server sent got exactly one
//     completion, whatever happened to its connection;
//   - RSS is flat: after a warm-up (the first fifth of the run), the largest
//     RSS of the last third of the samples is at most 1.2× the largest of the
//     first third. The warm-up covers the server's heap reaching its steady
//     size, and protoactor's process registry, whose small maps keep their
//     storage once used (each socket actor has a new ID), so that it grows
//     over the first tens of thousands of connections and then stays;
//   - the server's sockets, file descriptors and goroutines return to where
//     they were before the load;
//   - every echoed byte was right, and no connection failed that the client
//     did not abort itself.
//
// PASS exits 0; FAIL says why and exits 1.

// soakConfig is the soak's command line.
type soakConfig struct {
	Duration time.Duration
	Conns    int
	Every    time.Duration
	Loops    int
	MaxSize  int           // largest message, bytes
	Rounds   int           // most messages per connection before it closes
	Abort    int           // percent of connections closed abortively
	Pause    time.Duration // mean pause between a connection's messages
	Out      io.Writer     // the report
	Progress bool          // show a progress line on stderr
	Heap     string        // write the server's heap profile here at the end
	RSSLimit float64       // RSS is flat if the last third's peak is within this many times the first's
}

// soakSample is one periodic measurement.
type soakSample struct {
	At       time.Duration
	RSS      int // KiB
	FDs      int
	Server   soakStats
	Verified int64
	Reconn   int64
}

// soakResult is the end of a soak.
type soakResult struct {
	Samples  []soakSample
	Before   soakSample // the idle server, before the load
	Final    soakSample // the idle server, after every client closed
	Verified int64
	Conns    int64 // connections opened
	Corrupt  []string
	Errors   map[string]int64 // client connection failures, by kind
	Reasons  []string         // why it failed; empty: PASS
	RSSNote  string           // the RSS criterion's figures
}

func (r *soakResult) pass() bool { return len(r.Reasons) == 0 }

// soakMain runs the soak subcommand and returns the exit code.
func soakMain(args []string) int {
	fs := flag.NewFlagSet("soak", flag.ExitOnError)
	cfg := soakConfig{Out: os.Stdout, Progress: true}
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Minute, "how long to run the load")
	fs.IntVar(&cfg.Conns, "conns", 2000, "connections kept busy at once")
	fs.DurationVar(&cfg.Every, "every", 5*time.Second, "how often to print a line of figures")
	fs.IntVar(&cfg.Loops, "loops", runtime.NumCPU(), "the server's event loops")
	fs.IntVar(&cfg.MaxSize, "size", 4096, "largest message in bytes (sizes are uniform from 1)")
	fs.IntVar(&cfg.Rounds, "rounds", 40, "most messages a connection sends before it closes (uniform from 1)")
	fs.IntVar(&cfg.Abort, "abort", 20, "percent of connections closed abortively, with an echo in flight")
	fs.DurationVar(&cfg.Pause, "pause", 20*time.Millisecond, "mean pause between a connection's messages")
	fs.Float64Var(&cfg.RSSLimit, "rss-limit", 1.2, "the flat-RSS rule: the last third's peak at most this many times the first third's")
	fs.StringVar(&cfg.Heap, "heapprofile", "", "write the server's heap profile here once the clients have closed (go tool pprof)")
	_ = fs.Parse(args)
	res, err := runSoak(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		return 1
	}
	if !res.pass() {
		return 1
	}
	return 0
}

// soakServer is the running soak server process.
type soakServer struct {
	cmd  *exec.Cmd
	addr string
	in   io.WriteCloser
	out  *bufio.Reader
}

func startSoakServer(loops int) (*soakServer, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "soak-server", "-addr", "127.0.0.1:0", "-loops", strconv.Itoa(loops))
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	addr, out, err := startListening(cmd)
	if err != nil {
		return nil, fmt.Errorf("soak server: %w", err)
	}
	return &soakServer{cmd: cmd, addr: addr, in: in, out: out}, nil
}

// sample asks the server for its stats.
func (s *soakServer) sample() (soakSample, error) {
	return s.ask("stats")
}

// ask sends the server one request line and reads its stats: its counts,
// and its RSS and descriptors, which it reads from its /proc.
func (s *soakServer) ask(req string) (soakSample, error) {
	var sm soakSample
	if _, err := io.WriteString(s.in, req+"\n"); err != nil {
		return sm, err
	}
	line, err := s.out.ReadBytes('\n')
	if err != nil {
		return sm, fmt.Errorf("soak server: %w", err)
	}
	if err := json.Unmarshal(line, &sm.Server); err != nil {
		return sm, err
	}
	pid := s.cmd.Process.Pid
	if sm.RSS, err = rssKiB(pid); err != nil {
		return sm, err
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return sm, err
	}
	sm.FDs = len(fds)
	return sm, nil
}

// stop closes the server's stdin, which stops it, and waits for it.
func (s *soakServer) stop() error {
	s.in.Close()
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
		return fmt.Errorf("soak server did not stop")
	}
}

// soakLoad is the clients' shared counts.
type soakLoad struct {
	cfg      soakConfig
	addr     string
	verified atomic.Int64
	conns    atomic.Int64
	mu       sync.Mutex
	errors   map[string]int64 // guarded by mu
	corrupt  []string         // guarded by mu; the first few
}

func (l *soakLoad) failed(err error) {
	l.mu.Lock()
	l.errors[errKind(err)]++
	l.mu.Unlock()
}

// errKind names a client-side error by its errno, or its text.
func errKind(err error) string {
	var errno syscall.Errno
	var ne net.Error
	switch {
	case errors.As(err, &errno):
		return errno.Error()
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "EOF"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return err.Error()
}

// client keeps one connection slot busy until ctx ends.
func (l *soakLoad) client(ctx context.Context, id int) {
	rng := rand.New(rand.NewPCG(uint64(id), uint64(time.Now().UnixNano())))
	out := make([]byte, l.cfg.MaxSize)
	in := make([]byte, l.cfg.MaxSize)
	pause := time.NewTimer(0)
	defer pause.Stop()
	var d net.Dialer
	for seq := 0; ctx.Err() == nil; {
		c, err := d.DialContext(ctx, "tcp", l.addr)
		if err != nil {
			if ctx.Err() == nil {
				l.failed(fmt.Errorf("dial: %w", err))
				l.wait(ctx, pause, 100*time.Millisecond)
			}
			continue
		}
		l.conns.Add(1)
		unblock := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Now()) })
		rounds := 1 + rng.IntN(l.cfg.Rounds)
		abort := rng.IntN(100) < l.cfg.Abort
		for r := 0; r < rounds && ctx.Err() == nil; r++ {
			size := 1 + rng.IntN(l.cfg.MaxSize)
			fillPattern(out[:size], id, seq)
			seq++
			_ = c.SetWriteDeadline(time.Now().Add(30 * time.Second))
			if _, err := c.Write(out[:size]); err != nil {
				if ctx.Err() == nil {
					l.failed(err)
				}
				break
			}
			if abort && r == rounds-1 {
				// Reset the connection with its echo on the way: the
				// server's send of it fails, and must complete all the same.
				_ = c.(*net.TCPConn).SetLinger(0)
				break
			}
			_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
			if _, err := io.ReadFull(c, in[:size]); err != nil {
				if ctx.Err() == nil {
					l.failed(err)
				}
				break
			}
			if !bytes.Equal(in[:size], out[:size]) {
				l.mu.Lock()
				if len(l.corrupt) < 5 {
					l.corrupt = append(l.corrupt, fmt.Sprintf("client %d message %d: the echoed %d bytes differ", id, seq, size))
				}
				l.mu.Unlock()
				break
			}
			l.verified.Add(int64(size))
			l.wait(ctx, pause, time.Duration(rng.Int64N(2*int64(l.cfg.Pause)+1)))
		}
		unblock()
		c.Close()
	}
}

// wait pauses for d or until ctx ends.
func (l *soakLoad) wait(ctx context.Context, t *time.Timer, d time.Duration) {
	t.Reset(d)
	select {
	case <-t.C:
	case <-ctx.Done():
		if !t.Stop() {
			<-t.C
		}
	}
}

// warmUp echoes one message on one connection and waits for the server to
// close its socket, so that the baseline the soak compares with is taken
// after what a server starts once, on its first connection (the runtime's
// cleanup goroutine, for one), and not counted as a leak.
func (s *soakServer) warmUp() error {
	c, err := net.DialTimeout("tcp", s.addr, 10*time.Second)
	if err != nil {
		return err
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	msg := []byte("warm-up")
	_, err = c.Write(msg)
	if err == nil {
		_, err = io.ReadFull(c, msg)
	}
	c.Close()
	if err != nil {
		return fmt.Errorf("warm-up echo: %w", err)
	}
	for settled := time.Now().Add(10 * time.Second); ; {
		st, err := s.sample()
		if err != nil {
			return err
		}
		if st.Server.Sockets == 0 && st.Server.Completions == st.Server.Sends {
			return nil
		}
		if time.Now().After(settled) {
			return fmt.Errorf("the warm-up connection's socket is still open after 10s")
		}
		time.Sleep(10 * time.Millisecond) // polling another process's counters
	}
}

// runSoak runs a soak and prints its report on cfg.Out.
func runSoak(cfg soakConfig) (*soakResult, error) {
	srv, err := startSoakServer(cfg.Loops)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	res := &soakResult{}
	if err := srv.warmUp(); err != nil {
		return nil, err
	}
	if res.Before, err = srv.sample(); err != nil {
		return nil, err
	}
	w := cfg.Out
	fmt.Fprintf(w, "soak: %d connections for %s against an overlap echo server (pid %d, %d loops) at %s; a line every %s\n",
		cfg.Conns, cfg.Duration, srv.cmd.Process.Pid, cfg.Loops, srv.addr, cfg.Every)
	fmt.Fprintf(w, "%8s %9s %9s %6s %6s %7s %12s %12s %10s %9s  %s\n",
		"elapsed", "RSS", "live heap", "gorout", "fds", "sockets", "sends", "completions", "verified", "opened", "send errors")

	load := &soakLoad{cfg: cfg, addr: srv.addr, errors: map[string]int64{}}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := 0; i < cfg.Conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			load.client(ctx, i)
		}()
	}
	start := time.Now()
	tick := time.NewTicker(cfg.Every)
	second := time.NewTicker(time.Second)
	end := time.NewTimer(cfg.Duration)
	// sample measures the server under load and prints the line.
	sample := func() error {
		sm, err := srv.sample()
		if err != nil {
			return err
		}
		sm.At, sm.Verified, sm.Reconn = time.Since(start), load.verified.Load(), load.conns.Load()
		res.Samples = append(res.Samples, sm)
		if cfg.Progress {
			fmt.Fprint(os.Stderr, "\r\033[K") // the line replaces the progress line
		}
		fmt.Fprintln(w, sm.line(cfg.Every))
		return nil
	}
	var failure error
loop:
	for {
		select {
		case <-tick.C:
			if failure = sample(); failure != nil {
				break loop
			}
		case <-second.C:
			if !cfg.Progress {
				continue
			}
			el := time.Since(start)
			progress("soak %s of %s (%.0f%%): %s verified, %d connections opened",
				el.Round(time.Second), cfg.Duration, 100*el.Seconds()/cfg.Duration.Seconds(), mb(load.verified.Load()), load.conns.Load())
		case <-end.C:
			if len(res.Samples) == 0 || time.Since(start)-res.Samples[len(res.Samples)-1].At > cfg.Every/2 {
				failure = sample() // the load's last stretch, measured too
			}
			break loop
		}
	}
	tick.Stop()
	second.Stop()
	end.Stop()
	cancel()
	wg.Wait()
	if cfg.Progress {
		progressDone()
	}
	if failure != nil {
		return nil, failure
	}
	res.Verified, res.Conns = load.verified.Load(), load.conns.Load()
	res.Errors, res.Corrupt = load.errors, load.corrupt

	// Wait for the server to close every socket and settle.
	settled := time.Now().Add(30 * time.Second)
	for {
		if res.Final, err = srv.sample(); err != nil {
			return nil, err
		}
		f := res.Final
		if f.Server.Sockets == 0 && f.Server.Completions == f.Server.Sends && f.FDs <= res.Before.FDs &&
			f.Server.Goroutines <= res.Before.Server.Goroutines || time.Now().After(settled) {
			break
		}
		time.Sleep(100 * time.Millisecond) // polling another process's counters
	}
	res.Final.At, res.Final.Verified, res.Final.Reconn = time.Since(start), res.Verified, res.Conns
	fmt.Fprintln(w, res.Final.line(cfg.Every)+"  (after the clients closed)")
	if cfg.Heap != "" {
		if _, err := srv.ask("heap " + cfg.Heap); err != nil {
			return nil, err
		}
		fmt.Fprintf(w, "the server's heap profile: %s\n", cfg.Heap)
	}
	res.judge(cfg)
	res.report(w)
	return res, nil
}

// line formats one sample, its time to the second, or to a tenth with
// lines more often than every second.
func (s soakSample) line(every time.Duration) string {
	at := s.At.Round(time.Second)
	if every < time.Second {
		at = s.At.Round(100 * time.Millisecond)
	}
	return fmt.Sprintf("%8s %6.1f MB %6.1f MB %6d %6d %7d %12d %12d %10s %9d  %s",
		at, float64(s.RSS)/1024, float64(s.Server.HeapLive)/(1<<20), s.Server.Goroutines, s.FDs, s.Server.Sockets,
		s.Server.Sends, s.Server.Completions, mb(s.Verified), s.Reconn, kinds(s.Server.Errors))
}

// judge fills r.Reasons.
func (r *soakResult) judge(cfg soakConfig) {
	f := r.Final
	if f.Server.Completions != f.Server.Sends {
		r.Reasons = append(r.Reasons, fmt.Sprintf("%d sends but %d completions", f.Server.Sends, f.Server.Completions))
	}
	if f.Server.Sends == 0 {
		r.Reasons = append(r.Reasons, "the server sent nothing")
	}
	ok, why := rssFlat(r.Samples, cfg.Duration/5, cfg.RSSLimit)
	r.RSSNote = why
	if !ok {
		r.Reasons = append(r.Reasons, why)
	}
	if f.Server.Sockets != 0 {
		r.Reasons = append(r.Reasons, fmt.Sprintf("%d sockets still open after every client closed", f.Server.Sockets))
	}
	if f.FDs > r.Before.FDs {
		r.Reasons = append(r.Reasons, fmt.Sprintf("%d file descriptors open after the load, %d before", f.FDs, r.Before.FDs))
	}
	if f.Server.Goroutines > r.Before.Server.Goroutines {
		r.Reasons = append(r.Reasons, fmt.Sprintf("%d goroutines after the load, %d before", f.Server.Goroutines, r.Before.Server.Goroutines))
	}
	r.Reasons = append(r.Reasons, r.Corrupt...)
	if len(r.Errors) > 0 {
		r.Reasons = append(r.Reasons, "connections failed that the client did not abort: "+kinds(r.Errors))
	}
}

// rssFlat applies the RSS criterion to the samples taken after warm.
func rssFlat(samples []soakSample, warm time.Duration, limit float64) (bool, string) {
	var rss []int
	for _, s := range samples {
		if s.At >= warm {
			rss = append(rss, s.RSS)
		}
	}
	if len(rss) < 3 {
		return false, fmt.Sprintf("only %d RSS samples after the warm-up: run longer or sample more often", len(rss))
	}
	third := len(rss) / 3
	first, last := slices.Max(rss[:third]), slices.Max(rss[len(rss)-third:])
	if float64(last) > limit*float64(first) {
		return false, fmt.Sprintf("RSS grew: %.1f MB at most in the last third, %.1f MB in the first (%.2f×, limit %.2g×)",
			float64(last)/1024, float64(first)/1024, float64(last)/float64(first), limit)
	}
	return true, fmt.Sprintf("RSS flat: %.1f MB at most in the last third, %.1f MB in the first (%.2f×, limit %.2g×)",
		float64(last)/1024, float64(first)/1024, float64(last)/float64(first), limit)
}

// report prints the verdict.
func (r *soakResult) report(w io.Writer) {
	f := r.Final
	fmt.Fprintf(w, "sends %d, completions %d (%d failed at once, as SendFrom returned), send errors: %s\n",
		f.Server.Sends, f.Server.Completions, f.Server.Refused, kinds(f.Server.Errors))
	fmt.Fprintf(w, "connections opened %d, bytes verified %s, client failures: %s\n", r.Conns, mb(r.Verified), kinds(r.Errors))
	fmt.Fprintln(w, r.RSSNote)
	fmt.Fprintf(w, "server before the load: %d goroutines, %d fds; after: %d goroutines, %d fds, %d sockets\n",
		r.Before.Server.Goroutines, r.Before.FDs, f.Server.Goroutines, f.FDs, f.Server.Sockets)
	if r.pass() {
		fmt.Fprintln(w, "PASS: completions == sends, RSS flat, no socket, descriptor or goroutine left, every byte verified")
		return
	}
	fmt.Fprintln(w, "FAIL:")
	for _, why := range r.Reasons {
		fmt.Fprintln(w, "  -", why)
	}
}

// kinds formats counts by kind, largest first.
func kinds(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return m[ks[i]] > m[ks[j]] || m[ks[i]] == m[ks[j]] && ks[i] < ks[j] })
	var b strings.Builder
	for i, k := range ks {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", k, m[k])
	}
	return b.String()
}

// mb formats bytes in MB (10⁶).
func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
