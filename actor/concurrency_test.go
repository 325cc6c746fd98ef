package actor

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/wsabuf"
)

// Clause 21: any number of goroutines send at once; through partial writes
// (50 bytes a call) the bytes of each send stay contiguous on the wire, and
// each sender's sends and completions keep their order.
func TestClause21ConcurrentSenders(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)
	h.fc.setPerCall(50)
	h.fc.setAutoWake(true)
	const senders, each = 8, 250
	bufs := make([][]wsabuf.Buffers, senders)
	ovs := make([][]*Overlapped, senders)
	for g := range senders {
		bufs[g] = make([]wsabuf.Buffers, each)
		ovs[g] = make([]*Overlapped, each)
		for k := range each {
			bufs[g][k] = segsOf(g*100000+k, 1+k%9) // past inlineSegs too: pooled arrays reused while copies of earlier ops are queued
		}
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for k := range each {
				ov, err := h.send(g*100000+k, bufs[g][k], 0)
				if err != ErrIOPending {
					t.Errorf("sender %d send %d: %v", g, k, err)
				}
				ovs[g][k] = ov
			}
		}()
	}
	close(start)
	wg.Wait()
	total := 0
	for g := range senders {
		for k, ov := range ovs[g] {
			if n, err := waitOv(t, ov); n != bufs[g][k].Len() || err != nil {
				t.Errorf("sender %d send %d: (%d, %v)", g, k, n, err)
			}
			total += bufs[g][k].Len()
		}
	}
	h.col.waitN(t, senders*each)
	h.barrier()

	// Parse the wire: at every point the next bytes must be the whole next
	// send of one of the senders.
	wire := h.fc.wireBytes()
	if len(wire) != total {
		t.Fatalf("wire holds %d bytes, sends %d", len(wire), total)
	}
	next := make([]int, senders)
	for pos := 0; pos < len(wire); {
		matched := false
		for g := range senders {
			if next[g] == each {
				continue
			}
			b := bufs[g][next[g]].Flatten()
			if bytes.HasPrefix(wire[pos:], b) {
				pos += len(b)
				next[g]++
				matched = true
				break
			}
		}
		if !matched {
			t.Fatalf("at wire offset %d: not the whole next send of any sender (interleaved or reordered): %q", pos, wire[pos:min(pos+40, len(wire))])
		}
	}
	last := make([]int, senders)
	for g := range last {
		last[g] = -1
	}
	for _, c := range h.col.completions() {
		tag := c.Tag.(int)
		g, k := tag/100000, tag%100000
		if k <= last[g] {
			t.Errorf("sender %d: completion %d after %d", g, k, last[g])
		}
		last[g] = k
	}
	if n := len(h.col.completions()); n != senders*each {
		t.Errorf("%d completions, want %d", n, senders*each)
	}
}

// Clause 9: the completion goes to the sender of a ctx.Request by default; a
// plain ctx.Send without Overlapped or ReplyTo asks for none. Clause 18: a
// Send to a PID that is not a socket completes with ErrNotSock.
func TestClause9CompletionToRequester(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)
	rec := newRecorder()
	dead := protoactor.NewPID(h.sys.Actors.Address(), "no-such-socket")
	requester := h.sys.Actors.Root.Spawn(protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		switch m := ctx.Message().(type) {
		case *protoactor.Started:
			ctx.Request(h.sock.PID(), &Send{Buffers: wsabuf.Buffers{[]byte("req")}, Tag: "req"})
			ctx.Send(h.sock.PID(), &Send{Buffers: wsabuf.Buffers{[]byte("plain")}, Tag: "plain"})
			ctx.Request(h.sock.PID(), &Send{Buffers: wsabuf.Buffers{[]byte("req2")}, Tag: "req2"})
			ctx.Request(dead, &Send{Buffers: wsabuf.Buffers{[]byte("dead")}, Tag: "dead"})
		case *Completion:
			rec.add(m)
		case *barrierMsg:
			close(m.done)
		}
	}))
	rec.waitFor(t, "completion of req2", func(m any) bool { c, ok := m.(*Completion); return ok && c.Tag == "req2" })
	d := rec.waitFor(t, "completion of the send to a dead PID", func(m any) bool { c, ok := m.(*Completion); return ok && c.Tag == "dead" }).(*Completion)
	if !errors.Is(d.Err, ErrNotSock) || d.Bytes != 0 {
		t.Errorf("send to a non-socket PID: (%d, %v), want (0, ErrNotSock)", d.Bytes, d.Err)
	}
	done := make(chan struct{})
	h.fc.do(t, func() { h.sys.Actors.Root.Send(requester, &barrierMsg{done: done}) })
	select {
	case <-done:
	case <-time.After(testDeadline):
		t.Fatal("barrier")
	}
	var got []string
	for _, c := range completionsOf(rec.all()) {
		if c.Tag == "dead" {
			continue // from the dead-letter watch: any time
		}
		got = append(got, c.Tag.(string))
		if c.Tag == "req" && (c.Bytes != 3 || c.Err != nil || !c.Socket.Equal(h.sock.PID())) {
			t.Errorf("req completion %+v", c)
		}
	}
	if len(got) != 2 || got[0] != "req" || got[1] != "req2" {
		t.Errorf("requester got socket completions %v, want [req req2] (none for the plain Send)", got)
	}
	if w := string(h.fc.wireBytes()); w != "reqplainreq2" {
		t.Errorf("wire %q", w)
	}
}

// Clause 22: a handler sends from its completion handling (and its receive)
// without deadlock: a chain of 200 sends, each issued from the completion of
// the one before, alternating Send and SendFrom.
func TestClause22SendFromCompletion(t *testing.T) {
	const chain = 200
	done := make(chan int, 1)
	h := newHarness(t, ConnInfo{}, Options{}, func(h *harness, ctx protoactor.Context) {
		switch m := ctx.Message().(type) {
		case *Connected:
			_ = m.Socket.Send(&Send{Buffers: wsabuf.Buffers{[]byte{0}}, ReplyTo: ctx.Self(), Tag: 0})
		case *Completion:
			i := m.Tag.(int)
			if m.Err != nil || i == chain-1 {
				done <- i
				return
			}
			next := &Send{Buffers: wsabuf.Buffers{[]byte{byte(i + 1)}}, ReplyTo: ctx.Self(), Tag: i + 1}
			if i%2 == 0 {
				_, _ = h.sock.SendFrom(ctx, next)
			} else {
				_ = h.sock.Send(next)
			}
		}
	})
	select {
	case i := <-done:
		if i != chain-1 {
			t.Fatalf("chain stopped at %d", i)
		}
	case <-time.After(testDeadline):
		t.Fatal("chain of sends from completions stalled (deadlock?)")
	}
	h.fc.sync(t)
	wire := h.fc.wireBytes()
	if len(wire) != chain {
		t.Fatalf("wire holds %d bytes, want %d", len(wire), chain)
	}
	for i, b := range wire {
		if int(b) != i {
			t.Fatalf("wire[%d] = %d", i, b)
		}
	}
	n := 0
	for _, c := range completionsOf(h.h.all()) {
		if c.Tag != n {
			t.Fatalf("completion %v out of order, want %d", c.Tag, n)
		}
		n++
	}
}

// The message forms of the socket's own requests: Flush, Shutdown and Close
// sent to the PID act like the methods.
func TestControlMessages(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)
	ovs := stallAfter(t, h, 2, []wsabuf.Buffers{{[]byte("abcd")}, {[]byte("efgh")}})
	h.sys.Actors.Root.Send(h.sock.PID(), &Flush{})
	if n, err := waitOv(t, ovs[1]); n != 0 || !errors.Is(err, ErrOperationAborted) {
		t.Errorf("Flush message: queued send (%d, %v)", n, err)
	}
	h.sys.Actors.Root.Send(h.sock.PID(), &Shutdown{})
	h.sys.Actors.Root.Send(h.sock.PID(), &Close{})
	h.fc.sync(t)
	h.fc.setBudget(-1)
	h.fc.writable()
	if n, err := waitOv(t, ovs[0]); n != 4 || err != nil {
		t.Errorf("started send (%d, %v)", n, err)
	}
	h.h.waitFor(t, "Closed", func(m any) bool { _, ok := m.(*Closed); return ok })
	var ops []string
	for _, c := range h.fc.callLog() {
		if c.Op == "shutdown" || c.Op == "close" {
			ops = append(ops, c.Op)
			if c.WireAt != 4 || c.Abort {
				t.Errorf("%+v: want graceful, after 4 bytes", c)
			}
		}
	}
	if len(ops) != 2 || ops[0] != "shutdown" || ops[1] != "close" {
		t.Errorf("transport calls %v, want [shutdown close]", ops)
	}
	ov := new(Overlapped)
	h.sys.Actors.Root.Send(h.sock.PID(), &Send{Buffers: wsabuf.Buffers{[]byte("late")}, Overlapped: ov})
	if n, err := waitOv(t, ov); n != 0 || err == nil {
		t.Errorf("Send message after Close: (%d, %v), want an error", n, err)
	}
}

// Clause 19: when the transport reports the connection gone with an OS error
// (the peer reset it), pending sends complete with the mapped error and the
// bytes they sent; the handler gets Closed with the error.
func TestClause19PeerResetCompletesPending(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)
	ovs := stallAfter(t, h, 3, []wsabuf.Buffers{{[]byte("abcdef")}, {[]byte("ghi")}})
	cause := &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}
	h.fc.do(t, func() {
		h.fc.mu.Lock()
		h.fc.closed = true
		h.fc.mu.Unlock()
		h.ep.Closed(cause)
	})
	for i, ov := range ovs {
		n, err := waitOv(t, ov)
		if want := []int{3, 0}[i]; n != want || !errors.Is(err, ErrConnReset) || !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("send %d: (%d, %v), want (%d, ErrConnReset/ECONNRESET)", i, n, err, want)
		}
	}
	h.checkOnce(2)
	c := h.h.waitFor(t, "Closed", func(m any) bool { _, ok := m.(*Closed); return ok }).(*Closed)
	if !errors.Is(c.Err, syscall.ECONNRESET) {
		t.Errorf("Closed.Err = %v", c.Err)
	}
	if _, err := h.send(2, wsabuf.Buffers{[]byte("late")}, 0); !errors.Is(err, ErrNotSock) {
		t.Errorf("send after the connection closed: %v, want ErrNotSock", err)
	}
	h.h.waitFor(t, "Stopped", func(m any) bool { _, ok := m.(*protoactor.Stopped); return ok })
}

// Clause 2, for messages: a *Send delivered by ctx.Request is the sender's
// again once its completion comes: an actor that changes and re-sends the
// same Send (its array too) from each completion gets every send on the
// wire, in order, and one completion each.
func TestClause2SendMessageReusedAfterCompletion(t *testing.T) {
	const rounds = 200
	h := newHarness(t, ConnInfo{}, Options{}, nil)
	done := make(chan error, 1)
	var m Send
	var bufs [2][]byte
	var want []byte
	prep := func(i int) {
		bufs[0], bufs[1] = []byte{byte(i)}, []byte{byte(i >> 8), '|'}
		want = append(want, bufs[0][0], bufs[1][0], '|')
		m = Send{Buffers: bufs[:], Tag: i}
	}
	h.sys.Actors.Root.Spawn(protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		switch c := ctx.Message().(type) {
		case *protoactor.Started:
			prep(0)
			ctx.Request(h.sock.PID(), &m)
		case *Completion:
			i := c.Tag.(int)
			if c.Err != nil || c.Bytes != 3 {
				done <- fmt.Errorf("send %d completed with (%d, %v)", i, c.Bytes, c.Err)
				return
			}
			if i == rounds-1 {
				done <- nil
				return
			}
			prep(i + 1)
			ctx.Request(h.sock.PID(), &m)
		}
	}))
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(testDeadline):
		t.Fatal("the chain of re-sent messages did not finish")
	}
	h.fc.sync(t)
	if got := h.fc.wireBytes(); string(got) != string(want) {
		t.Errorf("wire has %d bytes, want %d: the re-sent messages did not go out as sent", len(got), len(want))
	}
}
