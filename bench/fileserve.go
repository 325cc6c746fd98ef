package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// fileCase is one file the file servers serve, and the load on it: conns
// keep-alive connections, each with one request in flight.
type fileCase struct {
	Name  string // "1 KiB"
	File  string // its name in the served directory
	Size  int
	Conns int
}

var fileCases = []fileCase{
	{"1 KiB", "1k.bin", 1 << 10, 50},
	{"100 KiB", "100k.bin", 100 << 10, 50},
	{"10 MiB", "10m.bin", 10 << 20, 8}, // fewer connections: each response is long
}

// httpLoad is the -http-load flag: the file scenarios' load generator,
// "wrk", "own" (getFiles) or "auto" (wrk when it is on PATH).
var httpLoad = "auto"

// fileResult is one measured run of one file server.
type fileResult struct {
	Reqs      int64 // requests completed in the measured time
	Size      int   // the body of each request
	Elapsed   time.Duration
	ServerCPU cpuTimes
	P50, P99  time.Duration
}

func (r fileResult) rate() float64 { return float64(r.Reqs) / r.Elapsed.Seconds() }

// mbps is the bodies served in MB (10⁶ bytes) per second, heads left out.
func (r fileResult) mbps() float64 {
	return float64(r.Reqs) * float64(r.Size) / 1e6 / r.Elapsed.Seconds()
}

// cpuPerReq is server CPU per request in microseconds.
func (r fileResult) cpuPerReq() float64 {
	if r.Reqs == 0 {
		return 0
	}
	return float64(r.ServerCPU.total().Microseconds()) / float64(r.Reqs)
}

// runFileServe runs examples/fileserve and net/http's FileServer in turn on
// files of each size, and compares them.
func runFileServe(cfg config, _ string) (section, error) {
	load := httpLoad
	if load == "auto" {
		load = "own"
		if _, err := exec.LookPath("wrk"); err == nil {
			load = "wrk"
		}
	}
	if load != "wrk" && load != "own" {
		return section{}, fmt.Errorf("-http-load %q: want wrk, own or auto", httpLoad)
	}
	tmp, err := os.MkdirTemp("", "overlap-bench-files-")
	if err != nil {
		return section{}, err
	}
	defer os.RemoveAll(tmp)
	www := filepath.Join(tmp, "www")
	bodies, err := writeFiles(www)
	if err != nil {
		return section{}, err
	}
	gen := "the suite's own HTTP/1.1 client, which checks the status (200), Content-Length and every body byte of every response"
	if load == "wrk" {
		if err := os.WriteFile(filepath.Join(tmp, wrkScript), []byte(wrkDone), 0o644); err != nil {
			return section{}, err
		}
		gen = "wrk (2 threads, keep-alive, whole seconds), whose request count, duration and latency percentiles are read through a Lua done() hook " +
			"(the figures behind its Requests/sec and Latency lines); wrk checks no bodies, so before each wrk run the suite's own " +
			"HTTP/1.1 client, as the warm-up, fetches the file for " + cfg.Warm.String() + " and until every connection has had a response, " +
			"and checks the status (200), Content-Length and every body byte"
	}
	sec := section{
		Title: "File server",
		Note: "examples/fileserve (its package server) against net/http's FileServer, each in its own process, serving the same files " +
			"(bytes of a known pattern, written to a temporary directory) to keep-alive connections with one request in flight each (fewer connections for the 10 MiB file, whose responses are long). " +
			"Load generator: " + gen + ". MB/s counts bodies only; latency is per request; CPU is the server's user+system time from /proc. " +
			"Target: requests/s ≥ 1.0× net/http's (the issue gives none for files; parity is the suite's own).",
		Header: []string{"file", "server", "conns", "req/s", "MB/s", "p50 µs", "p99 µs", "server CPU µs/req", "req/s vs net/http", "net/http CPU/req ÷ this"},
	}
	for ci, fc := range fileCases {
		fig := byKind{}
		for r := 0; r < cfg.Rounds; r++ {
			for i := range fileServerKinds {
				kind := fileServerKinds[(i+r)%len(fileServerKinds)]
				res, err := fileRun(kind, tmp, fc, bodies[ci], load, cfg, r)
				if err != nil {
					return sec, fmt.Errorf("file %s, %s: %w", fc.Name, kind, err)
				}
				f := fig.of(kind)
				f.rate = append(f.rate, res.rate())
				f.mbps = append(f.mbps, res.mbps())
				f.cpu = append(f.cpu, res.cpuPerReq())
				f.p50 = append(f.p50, us(res.P50))
				f.p99 = append(f.p99, us(res.P99))
				progress("file %s round %d/%d %-9s %8.0f req/s %7.1f MB/s %7.1f µs/req (%.0f%% sys) p50 %.0f µs",
					fc.Name, r+1, cfg.Rounds, kind, res.rate(), res.mbps(), res.cpuPerReq(),
					100*res.ServerCPU.sysShare(), us(res.P50))
			}
		}
		progressDone()
		fs, nh := fig["fileserve"], fig["nethttp"]
		for _, kind := range fileServerKinds {
			f := fig[kind]
			sec.Rows = append(sec.Rows, []string{fc.Name, kind, strconv.Itoa(fc.Conns),
				fmt.Sprintf("%.0f", median(f.rate)), fmt.Sprintf("%.1f", median(f.mbps)),
				fmt.Sprintf("%.0f", median(f.p50)), fmt.Sprintf("%.0f", median(f.p99)), fmt.Sprintf("%.1f", median(f.cpu)),
				fmt.Sprintf("%.2f", pairedRatio(f.rate, nh.rate).Value), fmt.Sprintf("%.2f", pairedRatio(nh.cpu, f.cpu).Value)})
		}
		sec.Ratios = append(sec.Ratios,
			ratio{Label: "file " + fc.Name + " req/s vs net/http", paired: pairedRatio(fs.rate, nh.rate), Target: 1},
			ratio{Label: "file " + fc.Name + " net/http CPU/req ÷ fileserve's", paired: pairedRatio(nh.cpu, fs.cpu)})
	}
	return sec, nil
}

// writeFiles writes every fileCase's file into dir, each filled with
// fillPattern, and returns their contents in fileCases' order.
func writeFiles(dir string) ([][]byte, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	bodies := make([][]byte, len(fileCases))
	for i, fc := range fileCases {
		b := make([]byte, fc.Size)
		fillPattern(b, i, fc.Size)
		if err := os.WriteFile(filepath.Join(dir, fc.File), b, 0o644); err != nil {
			return nil, err
		}
		bodies[i] = b
	}
	return bodies, nil
}

// fileRun starts a server of kind on tmp/www, verifies its responses with
// getFiles and measures it with the load generator load.
func fileRun(kind, tmp string, fc fileCase, body []byte, load string, cfg config, round int) (res fileResult, err error) {
	srv, err := startServer(kind, cfg.Loops, profilePath(kind, "h "+fc.Name, round), "-root", filepath.Join(tmp, "www"))
	if err != nil {
		return res, err
	}
	defer func() {
		if serr := srv.stop(); err == nil && serr != nil {
			err = serr
		}
	}()
	// The verifying client is the warm-up and, without wrk, the measure
	// too: every wrk run follows responses checked byte for byte, at least
	// one on every connection.
	var measure time.Duration
	if load == "own" {
		measure = cfg.Measure
	}
	if res, err = getFiles(srv, fc, body, cfg.Warm, measure); err != nil || load == "own" {
		return res, err
	}
	return runWrk(srv, filepath.Join(tmp, wrkScript), fc, cfg.Measure)
}

// getFiles drives srv with fc's load for warm+measure: every connection
// GETs the file, one request at a time, and checks every response against
// body.
func getFiles(srv *server, fc fileCase, body []byte, warm, measure time.Duration) (fileResult, error) {
	req := []byte("GET /" + fc.File + " HTTP/1.1\r\nHost: bench\r\n\r\n")
	var reqs atomic.Int64
	lat := &latencies{}
	w, err := drive(srv, fc.Conns, warm, measure, func(id int, c net.Conn, p *phase) error {
		br := bufio.NewReaderSize(c, 64<<10)
		buf := make([]byte, 64<<10)
		var rtts []time.Duration
		defer func() { lat.add(rtts) }()
		for n := 0; p.Pass(); n++ {
			t0 := time.Now()
			_ = c.SetDeadline(t0.Add(30 * time.Second))
			if _, err := c.Write(req); err != nil {
				return err
			}
			if err := readResponse(br, buf, body); err != nil {
				return fmt.Errorf("connection %d, response %d: %w", id, n, err)
			}
			if n == 0 {
				p.Warmed()
			}
			if p.Counting() {
				reqs.Add(1)
				if len(rtts) < maxSamplesPerConn {
					rtts = append(rtts, time.Since(t0))
				}
			}
		}
		return nil
	})
	if err != nil {
		return fileResult{}, err
	}
	p := lat.percentiles(0.5, 0.99)
	return fileResult{Reqs: reqs.Load(), Size: fc.Size, Elapsed: w.Elapsed, ServerCPU: w.ServerCPU, P50: p[0], P99: p[1]}, nil
}

// readResponse reads one response from br and checks that it is a 200
// whose body is want, byte for byte; buf is its scratch space.
func readResponse(br *bufio.Reader, buf, want []byte) error {
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %q, want 200", resp.Status)
	}
	if resp.ContentLength != int64(len(want)) {
		return fmt.Errorf("Content-Length %d, want %d", resp.ContentLength, len(want))
	}
	off := 0
	for {
		n, err := resp.Body.Read(buf)
		if off+n > len(want) || !bytes.Equal(buf[:n], want[off:off+n]) {
			return fmt.Errorf("body bytes %d to %d differ from the file's", off, off+n)
		}
		off += n
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
	}
	if off != len(want) {
		return fmt.Errorf("body of %d bytes, want %d", off, len(want))
	}
	return nil
}

// wrkScript is the file wrkDone is written to, beside the served directory.
const wrkScript = "done.lua"

// wrkDone is a wrk script whose done() prints one line of the run's
// figures: requests, body and head bytes, microseconds, p50 and p99
// latency (µs), and the error counts.
const wrkDone = `done = function(s, latency, requests)
  local e = s.errors
  io.write(string.format("overlap-bench %d %d %d %.0f %.0f %d %d %d %d %d\n",
    s.requests, s.bytes, s.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
`

// runWrk measures srv with wrk for measure (in whole seconds, at least
// one), and the server's CPU time over wrk's run. Any socket error, timeout
// or non-2xx/3xx response fails the run.
func runWrk(srv *server, script string, fc fileCase, measure time.Duration) (fileResult, error) {
	secs := max(1, int(measure.Round(time.Second)/time.Second))
	cmd := exec.Command("wrk", "-t", strconv.Itoa(min(2, fc.Conns)), "-c", strconv.Itoa(fc.Conns),
		"-d", strconv.Itoa(secs)+"s", "--timeout", "30s", "-s", script, "http://"+srv.addr+"/"+fc.File)
	pid := srv.cmd.Process.Pid
	cpu0, err := cpuTime(pid)
	if err != nil {
		return fileResult{}, err
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fileResult{}, fmt.Errorf("wrk: %v: %s", err, out)
	}
	cpu1, err := cpuTime(pid)
	if err != nil {
		return fileResult{}, err
	}
	i := bytes.Index(out, []byte("overlap-bench "))
	if i < 0 {
		return fileResult{}, fmt.Errorf("wrk printed no figures: %s", out)
	}
	line, _, _ := strings.Cut(string(out[i+len("overlap-bench "):]), "\n")
	var v [10]int64
	for j, f := range strings.Fields(line) {
		if j < len(v) {
			if v[j], err = strconv.ParseInt(f, 10, 64); err != nil {
				return fileResult{}, fmt.Errorf("wrk figures %q: %v", line, err)
			}
		}
	}
	if e := v[5] + v[6] + v[7] + v[8] + v[9]; e != 0 || v[0] == 0 || v[2] == 0 {
		return fileResult{}, fmt.Errorf("wrk: %d requests; errors: connect %d, read %d, write %d, status %d, timeout %d", v[0], v[5], v[6], v[7], v[8], v[9])
	}
	return fileResult{Reqs: v[0], Size: fc.Size, Elapsed: time.Duration(v[2]) * time.Microsecond, ServerCPU: cpu1.sub(cpu0),
		P50: time.Duration(v[3]) * time.Microsecond, P99: time.Duration(v[4]) * time.Microsecond}, nil
}
