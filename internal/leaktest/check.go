package leaktest

import (
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// settle bounds how long Check waits for descriptors to be closed once the
// test's own cleanups have run (closing is asynchronous in places: an
// actor's goroutine ends after its stop is acknowledged). Goroutines get
// goleak's own retries, about a second and a half.
const settle = 10 * time.Second

// Check makes t fail if, once every cleanup the test registers after this
// call has run, a goroutine is left (other than gnet's pool) or the process
// has more open file descriptors than when Check was called. Call it first
// in a test, so its cleanup runs last.
func Check(t testing.TB) {
	t.Helper()
	before, err := OpenFDs()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := goleak.Find(gnetPool...); err != nil {
			t.Errorf("goroutines left: %v", err)
		}
		if err := waitFDs(before, settle); err != nil {
			t.Error(err)
		}
	})
}

// waitFDs waits up to within for the process's open descriptors to be no
// more than before.
func waitFDs(before int, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		n, err := OpenFDs()
		if err != nil || n <= before {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d file descriptors open, %d before the test", n, before)
		}
		time.Sleep(10 * time.Millisecond) // poll the condition, bounded by the deadline
	}
}

// OpenFDs counts the process's open file descriptors.
func OpenFDs() (int, error) {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0, err
	}
	return len(fds) - 1, nil // ReadDir's own descriptor is among them
}
