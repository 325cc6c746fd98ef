package leaktest

import (
	"net"
	"testing"
	"time"
)

// The descriptor half of Check: a listener left open is reported, and
// once it is closed the count is back.
func TestWaitFDsSeesALeak(t *testing.T) {
	before, err := OpenFDs()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := waitFDs(before, 50*time.Millisecond); err == nil {
		l.Close()
		t.Fatal("an open listener was not counted")
	}
	l.Close()
	if err := waitFDs(before, settle); err != nil {
		t.Fatal(err)
	}
}
