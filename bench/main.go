// Command bench compares overlap with a raw gnet server and a
// goroutine-per-connection net.Conn server, each in its own process, driven
// by the same verifying load generator in this process, alternating A B A B.
// It reports msgs/s and server CPU per message (from /proc), and ratios
// against net.Conn and raw gnet measured in the same run.
//
//	go run ./bench [-rounds 9] [-measure 1s] [-slice 250ms] [-scenarios b,c]
//	go run ./bench server -kind overlap|gnet|netconn [-addr 127.0.0.1:0] [-mode echo|fanin|fanout|gather]
//	go run ./bench server -kind fileserve|nethttp -root DIR
//	go run ./bench soak [-duration 10m] [-conns 2000] [-every 5s]
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "soak":
			os.Exit(soakMain(os.Args[2:]))
		case "soak-server":
			os.Exit(soakServerMain(os.Args[2:]))
		case "server":
			serverMain(os.Args[2:])
			return
		}
	}
	rounds := flag.Int("rounds", 9, "A B A B rounds per scenario: the ratios are medians over rounds, so more, shorter rounds ride out the shared machine's swings better than fewer, longer ones")
	warm := flag.Duration("warm", 500*time.Millisecond, "warm-up before measuring")
	measure := flag.Duration("measure", time.Second, "measured time per run")
	slice := flag.Duration("slice", 250*time.Millisecond, "echo: each server's measured time is cut into turns of about this, taken in rotation with the other servers' (0: one turn each)")
	only := flag.String("scenarios", "", "scenarios to run, by letter (default all): "+scenarioHelp)
	loops := flag.Int("loops", runtime.NumCPU(), "server event loops")
	quick := flag.Bool("quick", false, "a short run (under 2 minutes): 1 round of 1 s per scenario, smaller idle and file scenarios")
	out := flag.String("out", "bench/results", "directory for the report (DATE.md) and its chart (DATE.svg); empty for none")
	servers := flag.String("servers", "overlap,gnet,netconn", "servers to compare, of "+strings.Join(serverKinds, ", ")+" (gnet and netconn are always run: the ratios need them)")
	flag.StringVar(&baselineBin, "baseline", "", "also run the overlap server of this bench binary (built from another commit) as kind \"baseline\": an A/B of two builds in one run")
	flag.StringVar(&baselineKind, "baseline-kind", "overlap", "the server of the -baseline binary to run")
	flag.BoolVar(&pinned, "pin", false, "bind each server to CPU 0 with one event loop and the load generator to the other CPUs: steadier CPU per message, on machines with 2 or more CPUs")
	flag.StringVar(&httpLoad, "http-load", "auto", "the file scenarios' load generator: wrk, own (this program's verifying client), or auto (wrk when installed)")
	flag.StringVar(&profileDir, "profile", "", "write each server's CPU profile to this directory (KIND-SCENARIO-ROUND.pprof), and in the idle scenario its heap profile with every connection open (KIND-i.heap)")
	flag.Func("chart", "the chart's format: svg (default) or png", func(v string) error {
		if v != "svg" && v != "png" {
			return fmt.Errorf("want svg or png")
		}
		chartExt = "." + v
		return nil
	})
	flag.Parse()

	if pinned {
		if runtime.NumCPU() < 2 {
			fmt.Fprintln(os.Stderr, "bench: -pin needs 2 or more CPUs")
			os.Exit(2)
		}
		*loops = 1
		if err := pinSelf(fmt.Sprintf("1-%d", runtime.NumCPU()-1)); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
	}
	kinds, err := chooseKinds(*servers)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	cfg := config{Kinds: kinds, Rounds: *rounds, Loops: *loops, Warm: *warm, Measure: *measure, Slice: *slice, Quick: *quick}
	if *quick {
		cfg.Rounds, cfg.Warm, cfg.Measure = 1, 200*time.Millisecond, time.Second
	}
	if err := run(cfg, *only, *out); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// serverMain is the "server" subcommand: one server of the suite in this
// process, until SIGINT or SIGTERM. It exits 1 when the server fails. The
// tests' binary runs it too (TestMain), so that they start servers the way
// the suite does.
func serverMain(args []string) {
	fs := flag.NewFlagSet("server", flag.ExitOnError)
	kind := fs.String("kind", "overlap", "server: "+strings.Join(append(serverKinds, fileServerKinds...), ", "))
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	loops := fs.Int("loops", runtime.NumCPU(), "event loops")
	root := fs.String("root", ".", "the directory the file servers serve")
	prof := fs.String("cpuprofile", "", "write a CPU profile of the server here")
	memprof := fs.String("memprofile", "", "write a heap profile of the server here when it is told to stop, before it closes its connections (every allocation sampled)")
	cpus := fs.String("cpus", "", "bind the server to these CPUs (e.g. 0 or 0-1)")
	var mode serverMode
	mode.flags(fs)
	_ = fs.Parse(args)
	if *cpus != "" {
		if err := pinSelf(*cpus); err != nil {
			fmt.Fprintln(os.Stderr, "bench server:", err)
			os.Exit(1)
		}
	}
	if *prof != "" {
		stopProf, err := startProfile(*prof)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench server:", err)
			os.Exit(1)
		}
		defer stopProf()
	}
	var onStop func()
	if *memprof != "" {
		runtime.MemProfileRate = 1 // before the server allocates anything
		onStop = func() {
			if err := writeHeapProfile(*memprof); err != nil {
				fmt.Fprintln(os.Stderr, "bench server:", err)
			}
		}
	}
	if err := runServer(*kind, *addr, *loops, mode, *root, onStop); err != nil {
		fmt.Fprintln(os.Stderr, "bench server:", err)
		os.Exit(1) //nolint:gocritic // the profile is lost on failure
	}
}

// run runs the families -scenarios selects, prints the report on stdout and
// writes it, with its chart, to dir.
func run(cfg config, only, dir string) error {
	start := time.Now()
	var secs []section
	for _, f := range families {
		letters := f.Letters
		if only != "" {
			letters = ""
			for _, l := range f.Letters {
				if strings.ContainsRune(only, l) {
					letters += string(l)
				}
			}
		}
		if letters == "" {
			continue
		}
		sec, err := f.Run(cfg, letters)
		if err != nil {
			return err
		}
		secs = append(secs, sec)
		sec.markdown(os.Stdout)
	}
	ratiosMarkdown(os.Stdout, secs)
	if dir == "" {
		return nil
	}
	md, svg, err := writeReport(dir, start, cfg, secs)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s and %s in %s\n", md, svg, time.Since(start).Round(time.Second))
	return nil
}

// chooseKinds parses -servers, adding the two that every ratio is against,
// and "baseline" when -baseline is set.
func chooseKinds(list string) ([]string, error) {
	var kinds []string
	for _, k := range append(strings.Split(list, ","), "gnet", "netconn") {
		if k = strings.TrimSpace(k); k == "" || slices.Contains(kinds, k) {
			continue
		}
		if !slices.Contains(serverKinds, k) {
			return nil, fmt.Errorf("unknown server %q (want some of %v)", k, serverKinds)
		}
		kinds = append(kinds, k)
	}
	if baselineBin != "" {
		kinds = append(kinds, "baseline")
	}
	return kinds, nil
}
