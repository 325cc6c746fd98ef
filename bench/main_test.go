package main

import (
	"testing"

	"github.com/overlapio/overlap/internal/leaktest"
)

// The benchmarks start engines and servers: none may leave a goroutine.
func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }
