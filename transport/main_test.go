package transport

import (
	"testing"

	"github.com/overlapio/overlap/internal/leaktest"
)

// TestMain fails the package if any test leaves a goroutine behind. gnet's
// import starts a process-wide ants pool whose two goroutines never end:
// those two, and only those, are expected.
func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }
