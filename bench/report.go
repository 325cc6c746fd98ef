package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// config is what every scenario family runs with, from the command line.
type config struct {
	Kinds   []string      // the servers to compare (-servers, plus gnet and netconn)
	Rounds  int           // A B A B rounds per scenario
	Loops   int           // server event loops
	Warm    time.Duration // warm-up before each measured run
	Measure time.Duration // measured time per run
	Slice   time.Duration // the echo family's turns: each server's Measure is cut into slices of about this, interleaved with the others'
	Quick   bool          // -quick: fewer rounds, shorter runs, smaller scenarios
}

// family is one group of scenarios (echo, fan-out, ...) that -scenarios
// selects by letter. run returns one section of the report.
type family struct {
	Letters string // the -scenarios letters that select it
	Run     func(cfg config, letters string) (section, error)
}

// families is every scenario family, in the report's order.
var families = []family{
	{Letters: "abcd", Run: runEchoMatrix},
	{Letters: "n", Run: runFanIn},
	{Letters: "f", Run: runFanOut},
	{Letters: "g", Run: runGather},
	{Letters: "i", Run: runIdle},
	{Letters: "h", Run: runFileServe},
}

// section is one table of the report: a family's absolute figures and its
// ratios against the baselines measured in the same run.
type section struct {
	Title  string     // "Echo", "Idle memory", ...
	Note   string     // a paragraph under the title: what is measured and how
	Header []string   // the table's column names
	Rows   [][]string // the table's cells, one slice per row
	Ratios []ratio    // what the chart draws
}

// ratio is one bar of the chart: overlap's figure over a baseline's, from
// the same run, oriented so that higher is better for overlap. A ceiling
// is raw gnet's figure in overlap's place in the ratio listed just before
// it, whose target it is read against (it has none of its own): what any
// design on gnet reaches there. The report lists it; the chart, which is
// overlap's, leaves it out.
type ratio struct {
	Label string // "echo b msgs/s vs net.Conn"
	paired
	Target  float64 // the target for it, 0 when it has none
	Ceiling bool    // raw gnet's figure, not overlap's
}

// paired is a ratio's value: the median of its per-round ratios, and their
// lowest and highest (all three equal for a figure measured once).
type paired struct {
	Value, Lo, Hi float64
}

// single is a figure measured once.
func single(v float64) paired { return paired{v, v, v} }

// spread is the per-round range, for the report: empty for a single figure.
func (p paired) spread() string {
	if p.Lo == p.Hi {
		return "–"
	}
	return fmt.Sprintf("%.2f–%.2f", p.Lo, p.Hi)
}

// met reports whether r reaches its target (true when it has none).
func (r ratio) met() bool { return r.Target == 0 || r.Value >= r.Target }

// markdown writes s as a Markdown section.
func (s section) markdown(w io.Writer) {
	fmt.Fprintf(w, "## %s\n\n", s.Title)
	if s.Note != "" {
		fmt.Fprintf(w, "%s\n\n", s.Note)
	}
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(s.Header, " | "), strings.Repeat("---|", len(s.Header)))
	for _, row := range s.Rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
	}
	fmt.Fprintln(w)
}

// ratiosMarkdown writes every section's ratios with their targets.
func ratiosMarkdown(w io.Writer, secs []section) {
	fmt.Fprintf(w, "## Ratios against the baselines (higher is better for overlap)\n\n"+
		"The ratio is the median of the rounds' ratios (each round runs every server once); the range is their lowest and highest.\n\n"+
		"| figure | ratio | rounds' range | target | met |\n|---|---|---|---|---|\n")
	for _, s := range secs {
		for _, r := range s.Ratios {
			target, met := "–", "–"
			if r.Target != 0 {
				target = fmt.Sprintf("≥ %.2f", r.Target)
				met = map[bool]string{true: "yes", false: "**no**"}[r.met()]
			}
			fmt.Fprintf(w, "| %s | %.2f | %s | %s | %s |\n", r.Label, r.Value, r.spread(), target, met)
		}
	}
	fmt.Fprintln(w)
}

// scenarioHelp describes the -scenarios letters.
const scenarioHelp = "echo a (1 conn × 1 × 64 B), b (100 × 8 × 128 B), c (1,000 × 1 × 512 B), d (50 × 2 × 64 KiB); n fan-in (64 senders × 64 B to 1 conn); f fan-out (256 B to 1,000 and 100 conns × 1,000/s); g gather (16 × 64 B, 64 × 1 KiB); i idle memory; h file server (1 KiB, 100 KiB, 10 MiB files, fileserve vs net/http)"

// progress rewrites the one progress line on stderr.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "\r\033[K"+format, args...)
}

// progressDone ends the progress line.
func progressDone() { fmt.Fprintln(os.Stderr) }
