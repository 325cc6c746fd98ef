// Command bench compares overlap with a raw gnet server and a
// goroutine-per-connection net.Conn server, each in its own process, driven
// by the same verifying load generator in this process, alternating A B A B.
// It reports msgs/s and server CPU per message (from /proc), and ratios
// against net.Conn and raw gnet measured in the same run.
//
//	go run ./bench [-rounds 3] [-measure 3s] [-scenarios b,c]
//	go run ./bench server -kind overlap|gnet|netconn [-addr 127.0.0.1:0]
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
	if len(os.Args) > 1 && os.Args[1] == "server" {
		fs := flag.NewFlagSet("server", flag.ExitOnError)
		kind := fs.String("kind", "overlap", "server: "+strings.Join(serverKinds, ", "))
		addr := fs.String("addr", "127.0.0.1:0", "listen address")
		loops := fs.Int("loops", runtime.NumCPU(), "event loops")
		prof := fs.String("cpuprofile", "", "write a CPU profile of the server here")
		cpus := fs.String("cpus", "", "bind the server to these CPUs (e.g. 0 or 0-1)")
		_ = fs.Parse(os.Args[2:])
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
		if err := runServer(*kind, *addr, *loops); err != nil {
			fmt.Fprintln(os.Stderr, "bench server:", err)
			os.Exit(1) //nolint:gocritic // the profile is lost on failure
		}
		return
	}
	rounds := flag.Int("rounds", 3, "A B A B rounds per scenario")
	warm := flag.Duration("warm", 500*time.Millisecond, "warm-up before measuring")
	measure := flag.Duration("measure", 3*time.Second, "measured time per run")
	only := flag.String("scenarios", "b,c", "scenarios to run, by letter: echo a,b,c,d; i for idle memory per connection (10,000 connections)")
	loops := flag.Int("loops", runtime.NumCPU(), "server event loops")
	servers := flag.String("servers", "overlap,gnet,netconn", "servers to compare, of "+strings.Join(serverKinds, ", ")+" (gnet and netconn are always run: the ratios need them)")
	flag.StringVar(&baselineBin, "baseline", "", "also run the overlap server of this bench binary (built from another commit) as kind \"baseline\": an A/B of two builds in one run")
	flag.StringVar(&baselineKind, "baseline-kind", "overlap", "the server of the -baseline binary to run")
	flag.BoolVar(&pinned, "pin", false, "bind each server to CPU 0 with one event loop and the load generator to the other CPUs: steadier CPU per message, on machines with 2 or more CPUs")
	flag.StringVar(&profileDir, "profile", "", "write each server's CPU profile to this directory (KIND-SCENARIO-ROUND.pprof)")
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
	err = runEchoMatrix(kinds, *only, *rounds, *loops, *warm, *measure)
	if err == nil && strings.Contains(*only, "i") {
		err = runIdle(kinds, idleConns, *loops)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
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

func runEchoMatrix(kinds []string, only string, rounds, loops int, warm, measure time.Duration) error {
	header := false
	for _, sc := range echoScenarios {
		if !strings.Contains(only, sc.Name[:1]) {
			continue
		}
		if !header {
			fmt.Printf("| scenario | server | msgs/s | server CPU µs/msg | msgs/s vs net.Conn | CPU/msg vs net.Conn | msgs/s vs gnet | CPU/msg vs gnet |\n|---|---|---|---|---|---|---|---|\n")
			header = true
		}
		rates := map[string][]float64{}
		cpus := map[string][]float64{}
		for r := 0; r < rounds; r++ {
			// Rotate the order each round so no server always runs first
			// (or right after another one's connections are torn down).
			for i := range kinds {
				kind := kinds[(i+r)%len(kinds)]
				srv, err := startServer(kind, loops, profilePath(kind, sc.Name, r))
				if err != nil {
					return err
				}
				res, err := runEcho(srv, sc, warm, measure)
				if serr := srv.stop(); err == nil && serr != nil {
					err = fmt.Errorf("%s: %v", kind, serr)
				}
				if err != nil {
					return fmt.Errorf("%s, %s: %w", sc.Name, kind, err)
				}
				rates[kind] = append(rates[kind], res.rate())
				cpus[kind] = append(cpus[kind], res.cpuPerMsg())
				fmt.Fprintf(os.Stderr, "\r%s round %d/%d %-8s %9.0f msgs/s %6.2f µs/msg (%.0f%% sys)   ", sc.Name, r+1, rounds, kind, res.rate(), res.cpuPerMsg(), res.sysShare()*100)
			}
		}
		fmt.Fprintln(os.Stderr)
		nc, gn := "netconn", "gnet"
		for _, kind := range kinds {
			fmt.Printf("| %s | %s | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f |\n", sc.Name, kind, median(rates[kind]), median(cpus[kind]),
				pairedRatio(rates[kind], rates[nc]), pairedRatio(cpus[kind], cpus[nc]),
				pairedRatio(rates[kind], rates[gn]), pairedRatio(cpus[kind], cpus[gn]))
		}
	}
	return nil
}
