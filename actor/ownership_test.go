package actor

import (
	"errors"
	"strings"
	"testing"

	protoactor "github.com/asynkron/protoactor-go/actor"
)

// An ownership violation names the socket, the send and the segment; with
// no handler installed it panics with itself, and with one it goes there.
// (The check that finds violations is built with the overlapdebug tag:
// transport/ownership_debug_test.go.)
func TestOwnershipViolationReport(t *testing.T) {
	v := &OwnershipViolation{
		Socket: &protoactor.PID{Id: "socket$7"}, Tag: "reply 3", Segment: 2, Changed: []int{2, 4},
		Segments: 5, Len: 512, Bytes: 100, Err: ErrConnReset, SubmittedAt: "main.reply (main.go:42)",
	}
	msg := v.Error()
	for _, want := range []string{"socket$7", "segment 2 of 5 (512 bytes)", "changed segments [2 4]", "tag reply 3", "main.go:42", "100 bytes", "connection reset"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}

	var got any
	func() {
		defer func() { got = recover() }()
		(&System{}).reportViolation(v)
	}()
	if err, ok := got.(error); !ok || !errors.As(err, new(*OwnershipViolation)) || err.(*OwnershipViolation) != v {
		t.Fatalf("the default report panicked with %v, want the violation", got)
	}

	var seen *OwnershipViolation
	sys := &System{}
	WithOwnershipViolationHandler(func(v *OwnershipViolation) { seen = v })(sys)
	sys.reportViolation(v)
	if seen != v {
		t.Fatalf("the handler got %v", seen)
	}
}
