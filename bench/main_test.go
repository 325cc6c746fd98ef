package main

import (
	"os"
	"testing"

	"github.com/overlapio/overlap/internal/leaktest"
)

// The benchmarks start engines and servers: none may leave a goroutine.
// Started as "soak-server", the test binary is the soak's server process
// (TestSoakShortRunPasses starts it so).
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "soak-server" {
		os.Exit(soakServerMain(os.Args[2:]))
	}
	leaktest.VerifyTestMain(m)
}
