//go:build overlapdebug

package transport

import (
	"bytes"
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/actor"
	"github.com/overlapio/overlap/internal/leaktest"
	"github.com/overlapio/overlap/wsabuf"
)

// The ownership check (go test -tags overlapdebug): a send whose bytes are
// changed between its submission and its completion is reported, with its
// socket, its tag and the segment that changed, before its completion is
// delivered; a caller that leaves its bytes alone until then gets no report.
//
// Every change here is made by the socket's handler, on the event loop, as
// a handler that reuses its scratch buffer too early would: the check runs
// on the loop too, so the race detector has nothing to say and the test is
// about the check alone.

// onLoop is a message to the socket's handler: run fn on the event loop,
// then close done.
type onLoop struct {
	fn   func(ctx protoactor.Context, s *actor.Socket)
	done chan struct{}
}

// ownershipPair starts a System whose ownership violations go to the
// returned channel, and a connected socket whose peer does not read until
// the test drains it. The socket's kernel send buffer is small, so a send
// behind a 1 MiB one stays pending until the peer reads.
func ownershipPair(t *testing.T) (*protoactor.RootContext, *actor.Socket, net.Conn, chan *actor.OwnershipViolation) {
	t.Helper()
	leaktest.Check(t)
	violations := make(chan *actor.OwnershipViolation, 16)
	sys, e := startEngine(t, Config{Loops: 1}, actor.WithOwnershipViolationHandler(func(v *actor.OwnershipViolation) { violations <- v }))
	socks := make(chan *actor.Socket, 1)
	props := protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		switch m := ctx.Message().(type) {
		case *actor.Connected:
			socks <- m.Socket
		case *actor.Received:
			m.Data.Release()
		case *onLoop:
			s, err := sys.Lookup(ctx.Self())
			if err != nil {
				panic(err)
			}
			m.fn(ctx, s)
			close(m.done)
		}
	})
	l, err := e.Listen("tcp", "127.0.0.1:0", props, WithSocketOptions(actor.Options{SendBuffer: 4 << 10}))
	if err != nil {
		t.Fatal(err)
	}
	peer := dialPeer(t, l)
	return sys.Actors.Root, acceptSocket(t, socks), peer, violations
}

// runOnLoop runs fn in s's handler and waits for it.
func runOnLoop(t *testing.T, root *protoactor.RootContext, s *actor.Socket, fn func(protoactor.Context, *actor.Socket)) {
	t.Helper()
	m := &onLoop{fn: fn, done: make(chan struct{})}
	root.Send(s.PID(), m)
	select {
	case <-m.done:
	case <-time.After(testDeadline):
		t.Fatal("the handler never ran")
	}
}

// segments returns five distinct segments of 1,000 bytes and their
// concatenation, as submitted: more than a send holds in itself, so the
// check covers a segment list from the pool, which goes back to it at
// completion (after the check).
func segments(seed byte) (wsabuf.Buffers, []byte) {
	bufs := make(wsabuf.Buffers, 5)
	for i := range bufs {
		bufs[i] = make([]byte, 1000)
	}
	for i, b := range bufs {
		for j := range b {
			b[j] = seed + byte(i*7+j)
		}
	}
	return bufs, bytes.Join(bufs, nil)
}

// waitDone waits for ov's completion and returns its result.
func waitDone(t *testing.T, ov *actor.Overlapped) (int, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	n, err := ov.Wait(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("the send never completed")
	}
	return n, err
}

func TestOwnershipViolationIsReported(t *testing.T) {
	if !actor.OwnershipChecks {
		t.Fatal("built without the overlapdebug tag")
	}
	for _, tc := range []struct {
		name string
		// submit sends bufs with ov and tag while a 1 MiB send holds the
		// queue, and changes segment 1 before the send completes.
		submit func(t *testing.T, root *protoactor.RootContext, s *actor.Socket, bufs wsabuf.Buffers, ov *actor.Overlapped, tag string)
	}{
		{"Send, then the handler reuses the buffer", func(t *testing.T, root *protoactor.RootContext, s *actor.Socket, bufs wsabuf.Buffers, ov *actor.Overlapped, tag string) {
			if err := s.Send(&actor.Send{Buffers: bufs, Overlapped: ov, Tag: tag}); err != actor.ErrIOPending {
				t.Fatalf("send: %v", err)
			}
			runOnLoop(t, root, s, func(protoactor.Context, *actor.Socket) { bufs[1][500] ^= 0xff })
		}},
		{"SendFrom pending, then the handler overwrites its scratch buffer", func(t *testing.T, root *protoactor.RootContext, s *actor.Socket, bufs wsabuf.Buffers, ov *actor.Overlapped, tag string) {
			runOnLoop(t, root, s, func(ctx protoactor.Context, s *actor.Socket) {
				if _, err := s.SendFrom(ctx, &actor.Send{Buffers: bufs, Overlapped: ov, Tag: tag}); err != actor.ErrIOPending {
					panic(err) // the 1 MiB send ahead keeps it queued
				}
				copy(bufs[1][900:], "the next message")
			})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, s, peer, violations := ownershipPair(t)
			filler := make([]byte, 1<<20)
			fov := &actor.Overlapped{}
			if err := s.Send(&actor.Send{Buffers: wsabuf.Buffers{filler}, Overlapped: fov}); err != actor.ErrIOPending {
				t.Fatalf("filler: %v", err)
			}
			bufs, submitted := segments(1)
			ov := &actor.Overlapped{}
			tc.submit(t, root, s, bufs, ov, "victim")
			if !ov.Pending() {
				t.Fatal("the send completed before its buffer changed: the filler did not hold it back")
			}
			got := readN(t, peer, len(filler)+len(submitted))
			if n, err := waitDone(t, ov); n != len(submitted) || err != nil {
				t.Fatalf("completion: %d bytes, %v", n, err)
			}
			// The report came before the completion was delivered.
			var v *actor.OwnershipViolation
			select {
			case v = <-violations:
			default:
				t.Fatal("no violation reported by the time the send completed")
			}
			if v.Socket != s.PID() || v.Tag != "victim" || v.Overlapped != ov || v.Segment != 1 ||
				!slices.Equal(v.Changed, []int{1}) || v.Segments != 5 || v.Len != 1000 || v.Bytes != len(submitted) || v.Err != nil {
				t.Fatalf("violation %+v: want socket %s, tag victim, segment 1 of 5 (1000 bytes), %d bytes", v, s.PID().Id, len(submitted))
			}
			if !strings.Contains(v.SubmittedAt, "ownership_debug_test.go") {
				t.Fatalf("violation submitted at %q, want this test's call of the send", v.SubmittedAt)
			}
			t.Log(v)
			// What the check guards against: the peer got the changed bytes.
			if bytes.Equal(got[len(filler):], submitted) {
				t.Fatal("the peer received the bytes as submitted: the change came too late to matter")
			}
			if _, err := waitDone(t, fov); err != nil {
				t.Fatal(err)
			}
			select {
			case v := <-violations:
				t.Fatalf("a second violation: %v", v)
			default:
			}
		})
	}
}

// A caller that changes its bytes only after the completion, on every path
// (written at once by SendFrom, queued behind a pending send, more segments
// than a send carries inline), gets no report.
func TestOwnershipWellBehavedCallerIsNotReported(t *testing.T) {
	root, s, peer, violations := ownershipPair(t)
	total := 0
	// SendFrom on an empty queue: written and completed before it returns,
	// so the buffer is the handler's again at once.
	inline, flat := segments(2)
	runOnLoop(t, root, s, func(ctx protoactor.Context, s *actor.Socket) {
		n, err := s.SendFrom(ctx, &actor.Send{Buffers: inline})
		if err != nil || n != len(flat) {
			panic("SendFrom was not written at once")
		}
		inline[1][0] ^= 0xff
	})
	total += len(flat)
	readN(t, peer, total)

	filler := make([]byte, 1<<20)
	many := make(wsabuf.Buffers, 40)
	for i := range many {
		many[i] = bytes.Repeat([]byte{byte(i)}, 100)
	}
	queued, _ := segments(3)
	var ovs []*actor.Overlapped
	for _, bufs := range []wsabuf.Buffers{{filler}, queued, many} {
		ov := &actor.Overlapped{}
		if err := s.Send(&actor.Send{Buffers: bufs, Overlapped: ov}); err != actor.ErrIOPending {
			t.Fatal(err)
		}
		ovs = append(ovs, ov)
		total += bufs.Len()
	}
	readN(t, peer, total-len(flat))
	for _, ov := range ovs {
		if _, err := waitDone(t, ov); err != nil {
			t.Fatal(err)
		}
	}
	// Completed: the bytes are the caller's; changing them is no violation.
	queued[0][0] ^= 0xff
	many[39][0] ^= 0xff
	select {
	case v := <-violations:
		t.Fatalf("a well-behaved caller was reported: %v", v)
	default:
	}
}
