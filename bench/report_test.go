package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// pairedRatio is the median of the rounds' ratios, with their range.
func TestPairedRatio(t *testing.T) {
	got := pairedRatio([]float64{4, 3, 2}, []float64{1, 1, 1})
	if want := (paired{Value: 3, Lo: 2, Hi: 4}); got != want {
		t.Errorf("pairedRatio = %+v, want %+v", got, want)
	}
	if got := pairedRatio(nil, nil); got != (paired{}) {
		t.Errorf("pairedRatio of no rounds = %+v, want zero", got)
	}
}

// A push family's row carries its ratios as plain numbers.
func TestPushRowCells(t *testing.T) {
	f := &figures{rate: []float64{200, 300, 400}, mbps: []float64{1, 1, 1}, cpu: []float64{1, 1, 1}}
	base := &figures{rate: []float64{100, 100, 100}, mbps: []float64{1, 1, 1}, cpu: []float64{2, 2, 2}}
	row := pushRow("s", "overlap", f, base)
	if got, want := strings.Join(row, "|"), "s|overlap|300|1.0|1.00|3.00|2.00"; got != want {
		t.Errorf("pushRow = %q, want %q", got, want)
	}
}

// The ratios table gives each ratio's median, its rounds' range (a dash for
// a figure measured once), its target and whether it is met.
func TestRatiosMarkdown(t *testing.T) {
	var b strings.Builder
	ratiosMarkdown(&b, []section{{Ratios: []ratio{
		{Label: "over", paired: paired{1.5, 1.2, 1.8}, Target: 1},
		{Label: "under", paired: paired{0.9, 0.8, 1.1}, Target: 1},
		{Label: "once", paired: single(2)},
		{Label: "ceiling", paired: paired{0.95, 0.9, 1.1}, Ceiling: true},
	}}})
	for _, want := range []string{
		"| over | 1.50 | 1.20–1.80 | ≥ 1.00 | yes |\n",
		"| under | 0.90 | 0.80–1.10 | ≥ 1.00 | **no** |\n",
		"| once | 2.00 | – | – | – |\n",
		"| ceiling | 0.95 | 0.90–1.10 | – | – |\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("ratios table lacks %q:\n%s", want, b.String())
		}
	}
}

// Profiles are named for the whole scenario, so that two scenarios of one
// family (fan-out to 1,000 and to 100 connections) do not share a file.
func TestProfilePathNamesTheScenario(t *testing.T) {
	defer func(d string) { profileDir = d }(profileDir)
	profileDir = "/p"
	a := profilePath("overlap actors", "f: 256 B to 1000 conns × 1000/s", 0)
	b := profilePath("overlap actors", "f: 256 B to 100 conns × 1000/s", 0)
	if want := "/p/overlap-actors-f-256-B-to-1000-conns-1000-s-1.pprof"; a != want {
		t.Errorf("profilePath = %q, want %q", a, want)
	}
	if a == b {
		t.Errorf("two scenarios share the profile %q", a)
	}
}

// The chart is written, with a whisker for a ratio measured over rounds
// and none for one measured once. It is overlap's: a ceiling (raw gnet's
// figure) stays in the report's table only.
func TestWriteChartDrawsRanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chart.svg")
	secs := []section{{Ratios: []ratio{
		{Label: "over rounds", paired: paired{Value: 1.2, Lo: 0.9, Hi: 1.4}, Target: 1},
		{Label: "once", paired: single(0.8), Target: 1},
		{Label: "gnet's ceiling", paired: single(0.9), Ceiling: true},
	}}}
	if err := writeChart(path, secs); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("<svg")) || !bytes.Contains(b, []byte("over rounds")) {
		t.Fatalf("not an SVG chart of the ratios: %.200s", b)
	}
	if bytes.Contains(b, []byte("ceiling")) {
		t.Error("the chart draws a ceiling, which is raw gnet's figure, not overlap's")
	}
}

// Under each multi-connection target against net.Conn comes raw gnet's
// ratio in overlap's place, marked a ceiling and with no target of its
// own; one connection has no such targets, so no ceilings.
func TestEchoRatiosCeilings(t *testing.T) {
	fig := byKind{
		"overlap": {rate: []float64{100}, cpu: []float64{2}, p50: []float64{30}},
		"gnet":    {rate: []float64{90}, cpu: []float64{2.5}, p50: []float64{30}},
		"netconn": {rate: []float64{80}, cpu: []float64{4}, p50: []float64{33}},
	}
	type row struct {
		label   string
		value   float64
		target  float64
		ceiling bool
	}
	var got []row
	for _, r := range echoRatios(echoScenario{Name: "b: many", Conns: 100}, fig) {
		got = append(got, row{r.Label, r.Value, r.Target, r.Ceiling})
	}
	want := []row{
		{"echo b msgs/s vs net.Conn", 100.0 / 80, 1, false},
		{"echo b ↳ ceiling: raw gnet's msgs/s vs net.Conn", 90.0 / 80, 0, true},
		{"echo b net.Conn CPU/msg ÷ overlap's", 4.0 / 2, 1, false},
		{"echo b ↳ ceiling: net.Conn CPU/msg ÷ raw gnet's", 4.0 / 2.5, 0, true},
		{"echo b msgs/s vs gnet", 100.0 / 90, 0.95, false},
		{"echo b gnet CPU/msg ÷ overlap's", 2.5 / 2, 0.95, false},
	}
	if !slices.Equal(got, want) {
		t.Errorf("multi-connection ratios:\n got %v\nwant %v", got, want)
	}
	for _, r := range echoRatios(echoScenario{Name: "a: one", Conns: 1}, fig) {
		if r.Ceiling || (strings.Contains(r.Label, "vs net.Conn") && r.Target != 0) {
			t.Errorf("one connection: %+v, want no ceiling and no target against net.Conn's msgs/s", r)
		}
	}
}
