package main

import (
	"os"
	"testing"

	"github.com/overlapio/overlap/internal/leaktest"
)

// The benchmarks start engines and servers: none may leave a goroutine.
// Run as "server ...", the test binary is the suite's server subcommand:
// the tests that start servers (startServer runs os.Executable) need it.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "server" {
		serverMain(os.Args[2:])
		return
	}
	leaktest.VerifyTestMain(m)
}
