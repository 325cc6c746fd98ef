package main

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// chartCap is where the chart's axis ends: a longer bar is cut there and
// its label marked.
const chartCap = 4.0

// chartExt is the chart's format as a file extension, set by -chart;
// gonum/plot picks the encoder from it.
var chartExt = ".svg"

// writeReport writes the run's Markdown report and its chart to dir, named
// by the date the run started, and returns their paths.
func writeReport(dir string, start time.Time, cfg config, secs []section) (md, svg string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	stem := filepath.Join(dir, start.Format("2006-01-02"))
	if cfg.Quick {
		stem += "-quick"
	}
	md, svg = stem+".md", stem+chartExt
	if err := writeChart(svg, secs); err != nil {
		return "", "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# overlap benchmark, %s\n\n", start.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "`go run ./bench %s` on %d CPUs (%s), %s. %d round(s) per scenario, %s warm-up and %s measured per run; "+
		"the servers run in turn (order rotating each round), each in its own process, against the same load generator.\n\n",
		strings.Join(os.Args[1:], " "), runtime.NumCPU(), cpuModel(), runtime.Version(), cfg.Rounds, cfg.Warm, cfg.Measure)
	fmt.Fprintf(&b, "![ratios](%s)\n\n", filepath.Base(svg))
	for _, s := range secs {
		s.markdown(&b)
	}
	ratiosMarkdown(&b, secs)
	return md, svg, os.WriteFile(md, []byte(b.String()), 0o644)
}

// writeChart draws every ratio as a horizontal bar, green where it meets its
// target and red where it misses, with a mark at each target and a line at
// parity (1.0).
func writeChart(path string, secs []section) error {
	var rs []ratio
	for _, s := range secs {
		for _, r := range s.Ratios {
			if !r.Ceiling {
				rs = append(rs, r)
			}
		}
	}
	if len(rs) == 0 {
		return nil
	}
	// gonum draws the first category at the bottom: reverse, so the chart
	// reads top to bottom in the report's order.
	n := len(rs)
	met, missed := make(plotter.Values, n), make(plotter.Values, n)
	var targets plotter.XYs
	// The whiskers: the rounds' lowest and highest ratio around each
	// median, in the shape gonum's XErrorBars take.
	var ranges struct {
		plotter.XYs
		plotter.XErrors
	}
	labels := make([]string, n)
	maxX := 1.2
	for i, r := range rs {
		y := n - 1 - i
		// Each label carries its value; a bar past chartCap (fan-in's 20×
		// and more) is cut there, marked "(cut)", so the ratios near parity
		// stay readable.
		labels[y] = fmt.Sprintf("%s  %.2f", r.Label, r.Value)
		v := r.Value
		if v > chartCap {
			v = chartCap
			labels[y] += " (cut)"
		}
		if r.met() {
			met[y] = v
		} else {
			missed[y] = v
		}
		if r.Target != 0 {
			targets = append(targets, plotter.XY{X: min(r.Target, chartCap), Y: float64(y)})
		}
		if r.Lo != r.Hi {
			ranges.XYs = append(ranges.XYs, plotter.XY{X: v, Y: float64(y)})
			ranges.XErrors = append(ranges.XErrors, struct{ Low, High float64 }{v - min(r.Lo, chartCap), min(r.Hi, chartCap) - v})
		}
		maxX = max(maxX, v*1.05, min(r.Hi, chartCap)*1.05, min(r.Target, chartCap)*1.05)
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("overlap ÷ baseline, same run (higher is better; median of rounds, whiskers their range; ▲ target; cut at %g)", chartCap)
	p.X.Min, p.X.Max = 0, maxX
	p.X.Label.Text = "ratio"
	p.NominalY(labels...)
	w := vg.Points(9)
	for _, bars := range []struct {
		v plotter.Values
		c color.Color
	}{{met, color.RGBA{R: 46, G: 139, B: 87, A: 255}}, {missed, color.RGBA{R: 205, G: 55, B: 55, A: 255}}} {
		bc, err := plotter.NewBarChart(bars.v, w)
		if err != nil {
			return err
		}
		bc.Horizontal = true
		bc.Color = bars.c
		bc.LineStyle.Width = 0
		p.Add(bc)
	}
	if len(ranges.XYs) > 0 {
		eb, err := plotter.NewXErrorBars(&ranges)
		if err != nil {
			return err
		}
		eb.CapWidth = vg.Points(4)
		p.Add(eb)
	}
	parity, err := plotter.NewLine(plotter.XYs{{X: 1, Y: -0.5}, {X: 1, Y: float64(n) - 0.5}})
	if err != nil {
		return err
	}
	parity.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
	p.Add(parity)
	if len(targets) > 0 {
		marks, err := plotter.NewScatter(targets)
		if err != nil {
			return err
		}
		marks.Shape = draw.PyramidGlyph{}
		marks.Radius = vg.Points(4)
		p.Add(marks)
	}
	return p.Save(9*vg.Inch, vg.Length(n)*0.28*vg.Inch+1.2*vg.Inch, path)
}

// cpuModel is the machine's CPU model name from /proc/cpuinfo, or "unknown CPU".
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				return strings.TrimSpace(v)
			}
		}
	}
	return "unknown CPU"
}
