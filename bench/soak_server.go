package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/internal/echo"
	"github.com/overlapio/overlap/transport"
)

// The soak's server: an overlap echo server in its own process, so that its
// RSS, file descriptors and goroutines are its own. It is examples/echo's
// handler with one change: every echo asks for its Completion (ReplyTo the
// handler itself), and the server counts sends and completions.
//
// It talks to the soak over its stdin and stdout: it prints "listening on
// ADDR", then answers each line it reads with one line of JSON, its
// soakStats (a line "heap PATH" first writes a heap profile to PATH, after
// a garbage collection); at the end of its stdin it stops the engine and
// exits.

// soakStats is one report of the soak server.
type soakStats struct {
	Goroutines  int              // runtime.NumGoroutine
	HeapLive    uint64           // the live heap at the last collection, bytes
	Sockets     int              // open sockets (actor.System.Sockets)
	Sends       int64            // echo sends submitted
	Completions int64            // Completion messages the handlers received
	Refused     int64            // SendFrom calls that returned an error: refused, or failed at once (each also completes)
	Errors      map[string]int64 // completions with an error, by kind
}

// soakCounters are the server's counts, shared by every event loop.
type soakCounters struct {
	sends, completions, refused atomic.Int64
	mu                          sync.Mutex
	errors                      map[string]int64 // guarded by mu
}

func (c *soakCounters) failed(err error) {
	kind := err.Error()
	if k := actor.Classify(err); k != nil {
		kind = k.Name
	}
	c.mu.Lock()
	c.errors[kind]++
	c.mu.Unlock()
}

func (c *soakCounters) stats(sys *actor.System) soakStats {
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(live)
	st := soakStats{
		Goroutines: runtime.NumGoroutine(), HeapLive: live[0].Value.Uint64(), Sockets: sys.Sockets(),
		Sends: c.sends.Load(), Completions: c.completions.Load(), Refused: c.refused.Load(),
		Errors: map[string]int64{},
	}
	c.mu.Lock()
	for k, v := range c.errors {
		st.Errors[k] = v
	}
	c.mu.Unlock()
	return st
}

// soakProps is the counting echo handler.
func soakProps(c *soakCounters) *protoactor.Props {
	return protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		switch m := ctx.Message().(type) {
		case *actor.Received:
			c.sends.Add(1)
			_, err := m.Socket.SendFrom(ctx, &actor.Send{Buffers: m.Buffers(), Hold: m.Data, ReplyTo: ctx.Self()})
			if err != nil && err != actor.ErrIOPending {
				c.refused.Add(1)
				_ = m.Socket.Abort() // the echo would have a hole
			}
		case *actor.Completion:
			c.completions.Add(1)
			if m.Err != nil {
				c.failed(m.Err)
			}
		default:
			echo.Handler(ctx) // watermarks: pause and resume reading
		}
	})
}

// soakServerMain runs the soak server; it returns the process's exit code.
func soakServerMain(args []string) int {
	fs := flag.NewFlagSet("soak-server", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	loops := fs.Int("loops", runtime.NumCPU(), "event loops")
	_ = fs.Parse(args)
	if err := runSoakServer(*addr, *loops, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "soak server:", err)
		return 1
	}
	return 0
}

func runSoakServer(addr string, loops int, in io.Reader, out io.Writer) error {
	sys := actor.NewSystem()
	defer sys.Stop()
	eng, err := transport.NewEngine(sys, transport.Config{Loops: loops})
	if err != nil {
		return err
	}
	c := &soakCounters{errors: map[string]int64{}}
	ln, err := eng.Listen("tcp", addr, soakProps(c), transport.WithSocketOptions(echo.Options))
	if err != nil {
		_ = eng.Stop(context.Background())
		return err
	}
	fmt.Fprintf(out, "listening on %s\n", ln.Addr())
	enc := json.NewEncoder(out)
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		if path, ok := strings.CutPrefix(sc.Text(), "heap "); ok {
			if err := writeHeapProfile(path); err != nil {
				fmt.Fprintln(os.Stderr, "soak server:", err)
			}
		}
		if err := enc.Encode(c.stats(sys)); err != nil {
			break
		}
	}
	return eng.Stop(context.Background())
}
