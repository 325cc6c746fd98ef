package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The file family, once and tiny (two connections, the largest file 1 MiB),
// with its own client: every server process starts and serves responses
// that are checked byte for byte (a run with none fails), and the section
// has a row of figures for each file and server and a ratio pair for each
// file.
func TestFileServeFamily(t *testing.T) {
	noRaceExitSleep(t)
	defer func(l string, fcs []fileCase) { httpLoad, fileCases = l, fcs }(httpLoad, fileCases)
	httpLoad = "own"
	fileCases = []fileCase{{"1 KiB", "1k.bin", 1 << 10, 2}, {"100 KiB", "100k.bin", 100 << 10, 2}, {"1 MiB", "1m.bin", 1 << 20, 2}}
	cfg := config{Rounds: 1, Loops: 1, Warm: 100 * time.Millisecond, Measure: 200 * time.Millisecond, Quick: true}
	sec, err := runFileServe(cfg, "h")
	if err != nil {
		t.Fatal(err)
	}
	if len(sec.Rows) != len(fileCases)*len(fileServerKinds) || len(sec.Ratios) != 2*len(fileCases) {
		t.Fatalf("%d rows and %d ratios, want %d and %d", len(sec.Rows), len(sec.Ratios), len(fileCases)*len(fileServerKinds), 2*len(fileCases))
	}
	for _, row := range sec.Rows {
		if rate, err := strconv.ParseFloat(row[3], 64); err != nil || rate < 0 {
			t.Errorf("%s %s: %s req/s", row[0], row[1], row[3])
		}
	}
}

// The client fails a run whose bodies are not the file: a byte changed,
// or a byte missing.
func TestFileClientCatchesBadBodies(t *testing.T) {
	noRaceExitSleep(t)
	fc := fileCase{Name: "1 KiB", File: "1k.bin", Size: 1 << 10, Conns: 2}
	want := make([]byte, fc.Size)
	fillPattern(want, 0, fc.Size)
	for name, tc := range map[string]struct {
		served []byte
		err    string
	}{
		"changed": {append(append(append([]byte{}, want[:500]...), want[500]^1), want[501:]...), "differ"},
		"short":   {want[:fc.Size-1], "Content-Length"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, fc.File), tc.served, 0o644); err != nil {
				t.Fatal(err)
			}
			srv, err := startServer("nethttp", 1, "", "-root", dir)
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := srv.stop(); err != nil {
					t.Error(err)
				}
			}()
			_, err = getFiles(srv, fc, want, 0, time.Second)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("got %v, want an error about %q", err, tc.err)
			}
		})
	}
}

// noRaceExitSleep spares the servers this test binary starts the race
// detector's second of sleep at exit (its default when built with -race;
// GORACE is ignored otherwise).
func noRaceExitSleep(t *testing.T) {
	t.Setenv("GORACE", strings.TrimPrefix(os.Getenv("GORACE")+" atexit_sleep_ms=0", " "))
}
