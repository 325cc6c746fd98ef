package actor

import (
	"testing"

	"github.com/overlapio/overlap/internal/leaktest"
)

// TestMain fails the package if a test leaves a goroutine behind.
func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }
