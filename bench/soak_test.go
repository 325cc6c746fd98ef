package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// A short soak against the soak server in its own process (this test
// binary, started as "soak-server": see TestMain) passes: every send
// completes once, RSS stays flat, and the server ends with no socket,
// descriptor or goroutine left.
func TestSoakShortRunPasses(t *testing.T) {
	var out bytes.Buffer
	cfg := soakConfig{Duration: 2 * time.Second, Conns: 20, Every: 100 * time.Millisecond, Loops: 2,
		MaxSize: 4096, Rounds: 10, Abort: 30, Pause: time.Millisecond, Out: &out, RSSLimit: 1.2}
	if raceBuild {
		// The server is this binary: built with the race detector, its RSS
		// holds the detector's shadow memory, several times the heap, which
		// grows as the heap reaches new addresses, for longer than 2 s.
		cfg.RSSLimit = 3
	}
	res, err := runSoak(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
	if !res.pass() {
		t.Fatalf("the soak failed: %v", res.Reasons)
	}
	f := res.Final.Server
	if f.Sends == 0 || f.Completions != f.Sends || res.Verified == 0 || res.Conns <= int64(cfg.Conns) {
		t.Fatalf("a pass with %d sends, %d completions, %d bytes verified, %d connections", f.Sends, f.Completions, res.Verified, res.Conns)
	}
	if f.Errors["WSAECONNRESET"] == 0 && f.Errors["WSAECONNABORTED"] == 0 {
		t.Fatalf("no send failed, though %d%% of the connections were reset: %v", cfg.Abort, f.Errors)
	}
	if !strings.Contains(out.String(), "PASS") {
		t.Fatalf("no verdict printed:\n%s", out.String())
	}
}

// The verdict's RSS rule: the last third's peak within 1.2× the first
// third's, after the warm-up.
func TestSoakRSSRule(t *testing.T) {
	samples := func(rss ...int) []soakSample {
		s := make([]soakSample, len(rss))
		for i, r := range rss {
			s[i] = soakSample{At: time.Duration(i) * time.Second, RSS: r}
		}
		return s
	}
	for _, tc := range []struct {
		rss  []soakSample
		warm time.Duration
		flat bool
	}{
		{samples(100, 100, 130, 105, 100, 140), 0, false},
		{samples(100, 100, 110, 105, 100, 119), 0, true},
		{samples(100, 100, 110, 105, 100, 121), 0, false},
		{samples(10, 100, 100, 110, 105, 100, 119), time.Second, true}, // the warm-up sample is left out
		{samples(100, 100), 0, false},                                  // too few to judge
	} {
		if flat, why := rssFlat(tc.rss, tc.warm, 1.2); flat != tc.flat {
			t.Errorf("%v (warm-up %s): flat %v (%s), want %v", tc.rss, tc.warm, flat, why, tc.flat)
		}
	}
}
