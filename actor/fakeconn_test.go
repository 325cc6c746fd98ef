package actor

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	protoactor "github.com/asynkron/protoactor-go/actor"

	"github.com/overlapio/overlap/wsabuf"
)

// testDeadline bounds every wait in these tests.
const testDeadline = 10 * time.Second

// errFakeStopped is what fakeConn.Post returns once the fake loop has stopped.
var errFakeStopped = errors.New("fakeconn: event loop stopped")

// fakeCall is one call the socket made on the fake transport.
type fakeCall struct {
	Op      string // "writev", "sendmsg", "await", "shutdown", "close", "pause", "resume"
	Segs    int    // segments offered (writev, sendmsg)
	Offered int    // bytes offered
	N       int    // bytes taken
	Flags   Flags  // sendmsg flags
	Err     error  // error returned
	WireAt  int    // len(wire) when the call was made
	Abort   bool   // close: abortive
}

// fakeConn is a scriptable Conn. Its "event loop" is one goroutine that runs
// posted funcs in order; every loop-only method checks that it is called on
// that goroutine. Writes are recorded on a wire buffer and a call log, and can
// be limited per call (partial writes), stalled (budget), or failed.
type fakeConn struct {
	info ConnInfo

	// The loop.
	qmu     sync.Mutex
	queue   []func()
	stopped bool
	wake    chan struct{}
	quit    chan struct{}
	exited  chan struct{}
	loopID  uint64
	started chan struct{}

	// Signals (capacity 1, never block the loop).
	awaitSig chan struct{} // an AwaitWritable call
	closeSig chan struct{} // a Close call

	mu         sync.Mutex // guards what follows
	ep         *Endpoint
	wire       []byte
	dgrams     [][]byte // datagrams sent, for Datagram conns
	calls      []fakeCall
	perCall    int   // bytes taken per write at most; 0: no limit
	budget     int   // bytes taken in total until raised; < 0: no limit
	bareEAGAIN bool  // a short write returns syscall.EAGAIN, not *os.SyscallError
	shortNil   bool  // a short write returns a nil error
	failErr    error // once the wire holds failAt bytes, writes fail with failErr
	failAt     int
	autoWake   bool   // AwaitWritable posts Endpoint.Writable at once
	onAwait    func() // called by AwaitWritable (outside mu), on the loop
	awaiting   bool
	closed     bool
	unacked    int // what Unacked reports
	violations []string
}

var _ Conn = (*fakeConn)(nil)

func newFakeConn(info ConnInfo) *fakeConn {
	f := &fakeConn{
		info:     info,
		wake:     make(chan struct{}, 1),
		quit:     make(chan struct{}),
		exited:   make(chan struct{}),
		started:  make(chan struct{}),
		awaitSig: make(chan struct{}, 1),
		closeSig: make(chan struct{}, 1),
		budget:   -1,
	}
	go f.run()
	<-f.started
	return f
}

// goid returns the current goroutine's id.
func goid() uint64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	s := strings.TrimPrefix(string(buf[:n]), "goroutine ")
	if i := strings.IndexByte(s, ' '); i > 0 {
		s = s[:i]
	}
	id, _ := strconv.ParseUint(s, 10, 64)
	return id
}

func (f *fakeConn) run() {
	f.loopID = goid()
	close(f.started)
	defer close(f.exited)
	for {
		f.qmu.Lock()
		if f.stopped {
			f.qmu.Unlock()
			return
		}
		if len(f.queue) == 0 {
			f.qmu.Unlock()
			select {
			case <-f.wake:
			case <-f.quit:
			}
			continue
		}
		fn := f.queue[0]
		f.queue[0] = nil
		f.queue = f.queue[1:]
		f.qmu.Unlock()
		fn()
	}
}

// stop ends the loop: queued funcs are dropped and Post fails from now on.
func (f *fakeConn) stop(t testing.TB) {
	f.qmu.Lock()
	if f.stopped {
		f.qmu.Unlock()
		return
	}
	f.stopped = true
	f.queue = nil
	f.qmu.Unlock()
	close(f.quit)
	select {
	case <-f.exited:
	case <-time.After(testDeadline):
		t.Errorf("fakeconn: event loop did not stop (blocked in a posted func?)")
	}
}

func (f *fakeConn) onLoop() bool { return goid() == f.loopID }

// checkLoop records a violation when a loop-only method is called elsewhere.
func (f *fakeConn) checkLoop(op string) {
	if !f.onLoop() {
		f.mu.Lock()
		f.violations = append(f.violations, op+" called off the event loop")
		f.mu.Unlock()
	}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Conn implementation.

func (f *fakeConn) Info() ConnInfo { return f.info }

func (f *fakeConn) Post(fn func()) error {
	f.qmu.Lock()
	if f.stopped {
		f.qmu.Unlock()
		return errFakeStopped
	}
	f.queue = append(f.queue, fn)
	f.qmu.Unlock()
	signal(f.wake)
	return nil
}

func (f *fakeConn) Writev(iov [][]byte) (int, error) {
	f.checkLoop("Writev")
	return f.write("writev", iov, 0)
}

func (f *fakeConn) SendMsg(iov [][]byte, flags Flags) (int, error) {
	f.checkLoop("SendMsg")
	return f.write("sendmsg", iov, flags)
}

func (f *fakeConn) write(op string, iov [][]byte, flags Flags) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	offered := 0
	for _, b := range iov {
		offered += len(b)
	}
	c := fakeCall{Op: op, Segs: len(iov), Offered: offered, Flags: flags, WireAt: len(f.wire)}
	if len(iov) > wsabuf.MaxIOV {
		f.violations = append(f.violations, fmt.Sprintf("%s with %d segments (> MaxIOV)", op, len(iov)))
	}
	n, err := f.decide(offered)
	if op == "sendmsg" && f.info.Datagram && n < offered && (err == nil || errors.Is(err, syscall.EAGAIN)) {
		// A datagram goes whole or not at all.
		n, err = 0, f.eagain(op)
	}
	if n > 0 {
		rest := n
		var dg []byte
		for _, b := range iov {
			if rest == 0 {
				break
			}
			k := min(rest, len(b))
			f.wire = append(f.wire, b[:k]...)
			if f.info.Datagram {
				dg = append(dg, b[:k]...)
			}
			rest -= k
		}
		if f.budget >= 0 {
			f.budget -= n
		}
		if f.info.Datagram && op == "sendmsg" {
			f.dgrams = append(f.dgrams, dg)
		}
	} else if f.info.Datagram && op == "sendmsg" && err == nil {
		f.dgrams = append(f.dgrams, []byte{}) // an empty datagram
	}
	c.N, c.Err = n, err
	f.calls = append(f.calls, c)
	return n, err
}

// SendFile is sendfile(2) on the fake wire: it reads the file's bytes at
// offset (fewer at its end: 0 and no error past it, as sendfile) and takes
// what decide allows of them.
func (f *fakeConn) SendFile(file *os.File, offset int64, n int) (int, error) {
	f.checkLoop("SendFile")
	buf := make([]byte, n)
	got, err := file.ReadAt(buf, offset)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := fakeCall{Op: "sendfile", Segs: 1, Offered: got, WireAt: len(f.wire)}
	k, werr := 0, error(nil)
	if got > 0 {
		k, werr = f.decide(got)
		f.wire = append(f.wire, buf[:k]...)
		if f.budget >= 0 {
			f.budget -= k
		}
	}
	c.N, c.Err = k, werr
	f.calls = append(f.calls, c)
	return k, werr
}

// decide says how much of offered bytes a write takes. f.mu is held.
func (f *fakeConn) decide(offered int) (int, error) {
	if f.closed {
		return 0, syscall.EBADF
	}
	n := offered
	if f.perCall > 0 && n > f.perCall {
		n = f.perCall
	}
	if f.budget >= 0 && n > f.budget {
		n = f.budget
	}
	if f.failErr != nil {
		room := f.failAt - len(f.wire)
		if room <= 0 {
			return 0, f.failErr
		}
		n = min(n, room)
	}
	if n < offered {
		if f.shortNil && n > 0 {
			return n, nil // a full socket still says EAGAIN: (0, nil) is sendfile's end of file
		}
		return n, f.eagain("writev")
	}
	return n, nil
}

func (f *fakeConn) eagain(op string) error {
	if f.bareEAGAIN {
		return syscall.EAGAIN
	}
	return os.NewSyscallError(op, syscall.EAGAIN)
}

func (f *fakeConn) AwaitWritable() error {
	f.checkLoop("AwaitWritable")
	f.mu.Lock()
	f.calls = append(f.calls, fakeCall{Op: "await", WireAt: len(f.wire)})
	if f.closed {
		f.mu.Unlock()
		return syscall.EBADF
	}
	f.awaiting = true
	auto, hook := f.autoWake, f.onAwait
	f.mu.Unlock()
	signal(f.awaitSig)
	if hook != nil {
		hook()
	}
	if auto {
		_ = f.Post(f.fireWritable)
	}
	return nil
}

func (f *fakeConn) PauseRead() error {
	f.checkLoop("PauseRead")
	f.record(fakeCall{Op: "pause"})
	return nil
}

func (f *fakeConn) ResumeRead() error {
	f.checkLoop("ResumeRead")
	f.record(fakeCall{Op: "resume"})
	return nil
}

// Unacked reports what the test set with setUnacked (0: all acknowledged).
func (f *fakeConn) Unacked() (int, error) {
	f.checkLoop("Unacked")
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.unacked, nil
}

// setUnacked sets the bytes the fake peer has not acknowledged.
func (f *fakeConn) setUnacked(n int) {
	f.mu.Lock()
	f.unacked = n
	f.mu.Unlock()
}

func (f *fakeConn) ShutdownWrite() error {
	f.checkLoop("ShutdownWrite")
	f.mu.Lock()
	defer f.mu.Unlock()
	c := fakeCall{Op: "shutdown", WireAt: len(f.wire)}
	if f.closed {
		c.Err = syscall.EBADF
	}
	f.calls = append(f.calls, c)
	return c.Err
}

// Close marks the fake closed and calls Endpoint.Closed(nil) before it
// returns, on the loop, as gnet does.
func (f *fakeConn) Close(abort bool) error {
	f.checkLoop("Close")
	f.mu.Lock()
	c := fakeCall{Op: "close", Abort: abort, WireAt: len(f.wire)}
	if f.closed {
		c.Err = syscall.EBADF
		f.calls = append(f.calls, c)
		f.mu.Unlock()
		return c.Err
	}
	f.closed = true
	f.awaiting = false
	f.calls = append(f.calls, c)
	ep := f.ep
	f.mu.Unlock()
	signal(f.closeSig)
	if ep != nil {
		ep.Closed(nil)
	}
	return nil
}

func (f *fakeConn) record(c fakeCall) {
	f.mu.Lock()
	c.WireAt = len(f.wire)
	f.calls = append(f.calls, c)
	f.mu.Unlock()
}

// fireWritable calls Endpoint.Writable if the socket awaits it. Loop only.
func (f *fakeConn) fireWritable() {
	f.mu.Lock()
	if f.closed || !f.awaiting || f.ep == nil {
		f.mu.Unlock()
		return
	}
	f.awaiting = false
	ep := f.ep
	f.mu.Unlock()
	ep.Writable()
}

// Test-side controls (any goroutine).

// do runs fn on the loop and waits for it.
func (f *fakeConn) do(t testing.TB, fn func()) {
	t.Helper()
	done := make(chan struct{})
	if err := f.Post(func() { defer close(done); fn() }); err != nil {
		t.Fatalf("fakeconn: post: %v", err)
	}
	select {
	case <-done:
	case <-time.After(testDeadline):
		t.Fatalf("fakeconn: loop func did not run within %v", testDeadline)
	}
}

// sync waits until everything posted so far has run.
func (f *fakeConn) sync(t testing.TB) { t.Helper(); f.do(t, func() {}) }

// block parks the loop until the returned release is called (it is also
// called at cleanup). block returns once the loop is parked.
func (f *fakeConn) block(t testing.TB) (release func()) {
	t.Helper()
	parked, ch := make(chan struct{}), make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(ch) }) }
	t.Cleanup(release)
	if err := f.Post(func() {
		close(parked)
		select {
		case <-ch:
		case <-f.quit:
		}
	}); err != nil {
		t.Fatalf("fakeconn: post: %v", err)
	}
	select {
	case <-parked:
	case <-time.After(testDeadline):
		t.Fatalf("fakeconn: loop did not park")
	}
	return release
}

// writable posts Endpoint.Writable (if the socket awaits it).
func (f *fakeConn) writable() { _ = f.Post(f.fireWritable) }

// setBudget sets the bytes writes may take in total (< 0: no limit).
func (f *fakeConn) setBudget(n int) {
	f.mu.Lock()
	f.budget = n
	f.mu.Unlock()
}

func (f *fakeConn) setPerCall(n int) {
	f.mu.Lock()
	f.perCall = n
	f.mu.Unlock()
}

// failWhenWireHas makes writes fail with err once the wire holds n bytes.
func (f *fakeConn) failWhenWireHas(n int, err error) {
	f.mu.Lock()
	f.failAt, f.failErr = n, err
	f.mu.Unlock()
}

func (f *fakeConn) setAutoWake(on bool) {
	f.mu.Lock()
	f.autoWake = on
	f.mu.Unlock()
}

func (f *fakeConn) setOnAwait(fn func()) {
	f.mu.Lock()
	f.onAwait = fn
	f.mu.Unlock()
}

func (f *fakeConn) wireBytes() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return bytes.Clone(f.wire)
}

func (f *fakeConn) callLog() []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeCall(nil), f.calls...)
}

// writes returns the writev and sendmsg calls.
func (f *fakeConn) writes() []fakeCall {
	var out []fakeCall
	for _, c := range f.callLog() {
		if c.Op == "writev" || c.Op == "sendmsg" {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeConn) datagrams() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.dgrams...)
}

func (f *fakeConn) isClosed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}

// waitAwait waits for an AwaitWritable call, then for the loop to finish
// the pass that made it (so the socket's mailbox is idle again: see
// TestClause14ControlWhileWriterParks for what a call landing inside that
// pass runs into).
func (f *fakeConn) waitAwait(t testing.TB) {
	t.Helper()
	select {
	case <-f.awaitSig:
	case <-time.After(testDeadline):
		t.Fatalf("fakeconn: no AwaitWritable within %v", testDeadline)
	}
	f.sync(t)
}

// ---------------------------------------------------------------------------
// Handler recorder and completion collector.

// recorder keeps the messages a handler actor received.
type recorder struct {
	mu   sync.Mutex
	msgs []any
	sig  chan struct{}
}

func newRecorder() *recorder { return &recorder{sig: make(chan struct{}, 1)} }

func (r *recorder) add(m any) {
	r.mu.Lock()
	r.msgs = append(r.msgs, m)
	r.mu.Unlock()
	signal(r.sig)
}

func (r *recorder) all() []any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]any(nil), r.msgs...)
}

// waitFor waits for a message that satisfies pred and returns it.
func (r *recorder) waitFor(t testing.TB, what string, pred func(any) bool) any {
	t.Helper()
	timeout := time.After(testDeadline)
	for {
		for _, m := range r.all() {
			if pred(m) {
				return m
			}
		}
		select {
		case <-r.sig:
		case <-timeout:
			t.Fatalf("handler did not receive %s within %v; got %s", what, testDeadline, describe(r.all()))
			return nil
		}
	}
}

func describe(msgs []any) string {
	var b strings.Builder
	for i, m := range msgs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%T", m)
	}
	return "[" + b.String() + "]"
}

// completionsOf returns the Completion messages among msgs.
func completionsOf(msgs []any) []*Completion {
	var out []*Completion
	for _, m := range msgs {
		if c, ok := m.(*Completion); ok {
			out = append(out, c)
		}
	}
	return out
}

// barrierMsg makes the collector report that everything sent to it before
// has been received.
type barrierMsg struct{ done chan struct{} }

// collector is an actor that keeps every Completion sent to it.
type collector struct {
	rec *recorder
	pid *protoactor.PID
}

func newCollector(t testing.TB, sys *System) *collector {
	c := &collector{rec: newRecorder()}
	c.pid = sys.Actors.Root.Spawn(protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		switch m := ctx.Message().(type) {
		case *Completion:
			c.rec.add(m)
		case *barrierMsg:
			close(m.done)
		}
	}))
	return c
}

func (c *collector) completions() []*Completion { return completionsOf(c.rec.all()) }

// waitN waits until the collector holds n completions.
func (c *collector) waitN(t testing.TB, n int) []*Completion {
	t.Helper()
	timeout := time.After(testDeadline)
	for {
		got := c.completions()
		if len(got) >= n {
			return got
		}
		select {
		case <-c.rec.sig:
		case <-timeout:
			t.Fatalf("collector: %d of %d completions within %v", len(got), n, testDeadline)
			return nil
		}
	}
}

// ---------------------------------------------------------------------------
// The harness: a System, a fake conn, a socket on it, a handler recorder and
// a completion collector.

type harness struct {
	t    *testing.T
	sys  *System
	fc   *fakeConn
	sock *Socket
	ep   *Endpoint
	h    *recorder // the socket handler's messages
	col  *collector
}

// newHarness makes the socket on the fake loop and starts it there. extra,
// if set, runs in the handler after the message is recorded.
func newHarness(t *testing.T, info ConnInfo, opts Options, extra func(h *harness, ctx protoactor.Context)) *harness {
	t.Helper()
	if info.Network == "" {
		info.Network = "tcp"
	}
	h := &harness{t: t, sys: NewSystem(), fc: newFakeConn(info), h: newRecorder()}
	h.col = newCollector(t, h.sys)
	t.Cleanup(func() {
		h.fc.stop(t)
		h.sys.Stop()
		h.fc.mu.Lock()
		v := append([]string(nil), h.fc.violations...)
		h.fc.mu.Unlock()
		for _, s := range v {
			t.Errorf("fakeconn contract violation: %s", s)
		}
	})
	props := protoactor.PropsFromFunc(func(ctx protoactor.Context) {
		h.h.add(ctx.Message())
		if extra != nil {
			extra(h, ctx)
		}
	})
	var err error
	h.fc.do(t, func() {
		var ep *Endpoint
		h.sock, ep, err = NewSocket(h.sys, h.fc, props, opts)
		if err != nil {
			return
		}
		h.fc.mu.Lock()
		h.fc.ep = ep
		h.fc.mu.Unlock()
		h.ep = ep
		ep.Start()
	})
	if err != nil {
		t.Fatalf("NewSocket: %v", err)
	}
	h.h.waitFor(t, "Connected", func(m any) bool { _, ok := m.(*Connected); return ok })
	return h
}

// send submits bufs with an Overlapped, ReplyTo the collector and Tag tag.
func (h *harness) send(tag int, bufs wsabuf.Buffers, flags Flags) (*Overlapped, error) {
	ov := new(Overlapped)
	err := h.sock.Send(&Send{Buffers: bufs, Flags: flags, Overlapped: ov, ReplyTo: h.col.pid, Tag: tag})
	return ov, err
}

// barrier waits until every completion the loop has sent so far reached the
// collector (the loop sends the barrier after them).
func (h *harness) barrier() {
	h.t.Helper()
	done := make(chan struct{})
	h.fc.do(h.t, func() { h.sys.Actors.Root.Send(h.col.pid, &barrierMsg{done: done}) })
	select {
	case <-done:
	case <-time.After(testDeadline):
		h.t.Fatalf("barrier not reached within %v", testDeadline)
	}
}

// waitOv waits for an Overlapped and returns its result.
func waitOv(t testing.TB, ov *Overlapped) (int, error) {
	t.Helper()
	select {
	case <-ov.Done():
	case <-time.After(testDeadline):
		t.Fatalf("overlapped not completed within %v", testDeadline)
	}
	n, err, done := ov.Result()
	if !done {
		t.Fatalf("overlapped: Done closed but Result says not done")
	}
	return n, err
}

// checkOnce asserts that the collector got exactly one completion per tag in
// 0..n-1 (after a barrier) and returns them indexed by tag.
func (h *harness) checkOnce(n int) []*Completion {
	h.t.Helper()
	h.col.waitN(h.t, n)
	h.barrier()
	got := h.col.completions()
	byTag := make([]*Completion, n)
	for _, c := range got {
		tag, ok := c.Tag.(int)
		if !ok || tag < 0 || tag >= n {
			h.t.Errorf("completion with unexpected tag %v", c.Tag)
			continue
		}
		if byTag[tag] != nil {
			h.t.Errorf("send %d completed twice: %+v and %+v", tag, byTag[tag], c)
			continue
		}
		byTag[tag] = c
	}
	for i, c := range byTag {
		if c == nil {
			h.t.Errorf("send %d has no completion", i)
		}
	}
	if len(got) != n {
		h.t.Errorf("collector got %d completions, want %d", len(got), n)
	}
	return byTag
}

// tags returns the tags of cs in order.
func tags(cs []*Completion) []int {
	out := make([]int, len(cs))
	for i, c := range cs {
		out[i], _ = c.Tag.(int)
	}
	return out
}

// payload returns distinct bytes for segment seg of send i.
func payload(i, seg int) []byte { return []byte(fmt.Sprintf("<%d.%d>", i, seg)) }

// segsOf builds a send of nseg segments.
func segsOf(i, nseg int) wsabuf.Buffers {
	b := make(wsabuf.Buffers, nseg)
	for s := range b {
		b[s] = payload(i, s)
	}
	return b
}

func concat(bufs ...wsabuf.Buffers) []byte {
	var out []byte
	for _, b := range bufs {
		out = append(out, b.Flatten()...)
	}
	return out
}

func sized(n int, c byte) []byte { return bytes.Repeat([]byte{c}, n) }
