package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// idleConns is how many connections the idle-memory scenario holds open.
const idleConns = 10000

// runIdle measures each server's resident memory per open, idle
// connection: it opens n connections, echoes one byte on each (so every one
// is accepted and has its socket or goroutine), and divides the growth of
// the server's RSS by n. Each server runs in its own process, in turn.
func runIdle(cfg config, _ string) (section, error) {
	n := idleConns
	if cfg.Quick {
		n = idleConns / 5
	}
	sec := section{
		Title: "Idle memory",
		Note: fmt.Sprintf("Each server holds %d open connections, each of which has echoed one byte; "+
			"per connection is the growth of the server's RSS (from /proc) divided by %d.", n, n),
		Header: []string{"server", "RSS before", "RSS with them", "per connection", "vs net.Conn", "vs gnet"},
	}
	rss := map[string][2]int{}
	for _, kind := range cfg.Kinds {
		kb, err := idleOnce(kind, n, cfg.Loops)
		if err != nil {
			return sec, fmt.Errorf("idle, %s: %w", kind, err)
		}
		rss[kind] = kb
	}
	perConn := func(kind string) float64 { return float64(rss[kind][1]-rss[kind][0]) * 1024 / float64(n) }
	for _, kind := range cfg.Kinds {
		kb := rss[kind]
		sec.Rows = append(sec.Rows, []string{kind, fmt.Sprintf("%.1f MB", float64(kb[0])/1024), fmt.Sprintf("%.1f MB", float64(kb[1])/1024),
			fmt.Sprintf("%.2f KB", perConn(kind)/1000), ratioOf(perConn(kind), perConn("netconn")), ratioOf(perConn(kind), perConn("gnet"))})
	}
	if _, ok := rss["overlap"]; ok && perConn("overlap") > 0 {
		// The target is ≤ 1.5 KB per connection: as a ratio, 1.5 KB over overlap's.
		sec.Ratios = append(sec.Ratios,
			ratio{Label: "idle 1.5 KB ÷ overlap's bytes per connection", paired: single(1500 / perConn("overlap")), Target: 1},
			ratio{Label: "idle net.Conn bytes ÷ overlap's", paired: single(perConn("netconn") / perConn("overlap"))})
	}
	return sec, nil
}

func ratioOf(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// idleOnce returns the server's RSS in KiB before and with n connections.
func idleOnce(kind string, n, loops int) ([2]int, error) {
	var kb [2]int
	var extra []string
	if profileDir != "" && kind != "baseline" {
		extra = []string{"-memprofile", filepath.Join(profileDir, kind+"-i.heap")}
	}
	srv, err := startServer(kind, loops, "", extra...)
	if err != nil {
		return kb, err
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = srv.stop()
		}
	}()
	if kb[0], err = rssKiB(srv.cmd.Process.Pid); err != nil {
		return kb, err
	}
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	one := []byte{'x'}
	for i := 0; i < n; i++ {
		c, err := net.DialTimeout("tcp", srv.addr, 10*time.Second)
		if err != nil {
			return kb, fmt.Errorf("connection %d: %w", i, err)
		}
		conns = append(conns, c)
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		if _, err := c.Write(one); err != nil {
			return kb, err
		}
		if _, err := io.ReadFull(c, one); err != nil {
			return kb, fmt.Errorf("connection %d: no echo: %w", i, err)
		}
		if (i+1)%100 == 0 || i+1 == n {
			progress("idle %-8s %d/%d connections", kind, i+1, n)
		}
	}
	progressDone()
	if kb[1], err = rssKiB(srv.cmd.Process.Pid); err != nil {
		return kb, err
	}
	if extra != nil {
		// The heap profile is written on the stop signal: send it while
		// every connection is still open.
		stopped = true
		return kb, srv.stop()
	}
	return kb, nil
}

// rssKiB reads a process's resident set size from /proc/PID/status.
func rssKiB(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}
