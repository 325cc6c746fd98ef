package main

import (
	"os"
	"testing"

	"github.com/overlapio/overlap/internal/leaktest"
)

// The benchmarks start engines and servers: none may leave a goroutine.
// Run as "server ..." or "soak-server ...", the test binary is that
// subcommand: the tests that start servers (startServer and the soak run
// os.Executable) need it.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "server":
			serverMain(os.Args[2:])
			return
		case "soak-server":
			os.Exit(soakServerMain(os.Args[2:]))
		}
	}
	if os.Getenv("GORACE") == "" {
		// Servers built with -race would pause 1 s at exit, each.
		os.Setenv("GORACE", "atexit_sleep_ms=0")
	}
	leaktest.VerifyTestMain(m)
}
