package main

import (
	"os"
	"testing"

	"github.com/overlapio/overlap/internal/leaktest"
)

// The benchmarks start engines and servers: none may leave a goroutine.
// The families' tests start their servers as the suite does, as processes
// of this binary's "server" subcommand.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "server" {
		serverMain(os.Args[2:])
		return
	}
	if os.Getenv("GORACE") == "" {
		// Servers built with -race would pause 1 s at exit, each.
		os.Setenv("GORACE", "atexit_sleep_ms=0")
	}
	leaktest.VerifyTestMain(m)
}
