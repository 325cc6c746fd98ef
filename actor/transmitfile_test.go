package actor

import (
	"errors"
	"math"
	"os"
	"slices"
	"testing"

	"github.com/overlapio/overlap/internal/testfile"
	"github.com/overlapio/overlap/wsabuf"
)

// tempFile is a file of n pattern bytes, closed when the test ends.
func tempFile(t *testing.T, n int) (*os.File, []byte) {
	t.Helper()
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i*7 + i>>8)
	}
	return testfile.Open(t, data), data
}

// A send's file region goes after its buffers and before the next send,
// however the writes split it, and the completion counts both.
func TestTransmitFileInOrder(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)
	f, data := tempFile(t, 100_000)
	h.fc.setPerCall(7_000) // every write short: the region crosses many
	h.fc.setAutoWake(true)
	before, _ := h.send(0, wsabuf.Buffers{[]byte("before;")}, 0)
	ov := new(Overlapped)
	if err := h.sock.Send(&Send{Buffers: wsabuf.Buffers{[]byte("head;")}, File: &FileRegion{File: f, Offset: 10, Length: 50_000},
		Overlapped: ov, ReplyTo: h.col.pid, Tag: 1}); err != ErrIOPending {
		t.Fatal(err)
	}
	after, _ := h.send(2, wsabuf.Buffers{[]byte(";after")}, 0)
	for i, o := range []*Overlapped{before, ov, after} {
		want := []int{7, 5 + 50_000, 6}[i]
		if n, err := waitOv(t, o); n != want || err != nil {
			t.Errorf("send %d: (%d, %v), want (%d, nil)", i, n, err, want)
		}
	}
	h.checkOnce(3)
	want := "before;head;" + string(data[10:50_010]) + ";after"
	if got := string(h.fc.wireBytes()); got != want {
		t.Errorf("wire: %d bytes, want %d (first difference at %d)", len(got), len(want), firstDiff(got, want))
	}
}

func firstDiff(a, b string) int {
	for i := 0; i < min(len(a), len(b)); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// SendFrom with a file region writes it at once when the socket takes it.
func TestTransmitFileSendFrom(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, sendFromHandler)
	f, data := tempFile(t, 4096)
	r := h.sendFrom(&Send{Buffers: wsabuf.Buffers{[]byte("h")}, File: &FileRegion{File: f, Length: 4096}, ReplyTo: h.col.pid, Tag: 0})
	if r.n != 4097 || r.err != nil {
		t.Errorf("SendFrom = (%d, %v), want (4097, nil)", r.n, r.err)
	}
	h.checkOnce(1)
	if got := string(h.fc.wireBytes()); got != "h"+string(data) {
		t.Errorf("wire: %d bytes, want 4097", len(got))
	}
}

// A file region is for stream sockets, without flags, with a file and a
// region that is not negative: anything else is refused at once, and
// completes once with the error.
func TestTransmitFileRefused(t *testing.T) {
	f, _ := tempFile(t, 10)
	for _, c := range []struct {
		name string
		info ConnInfo
		send Send
		want error
	}{
		{"datagram", ConnInfo{Network: "udp", Datagram: true, Connected: true, MaxMsgSize: 65507}, Send{File: &FileRegion{File: f, Length: 1}}, ErrOpNotSupported},
		{"flags", ConnInfo{}, Send{Flags: MsgOOB, File: &FileRegion{File: f, Length: 1}}, ErrOpNotSupported},
		{"no file", ConnInfo{}, Send{File: &FileRegion{Length: 1}}, ErrInvalid},
		{"negative offset", ConnInfo{}, Send{File: &FileRegion{File: f, Offset: -1, Length: 1}}, ErrInvalid},
		{"negative length", ConnInfo{}, Send{File: &FileRegion{File: f, Length: -1}}, ErrInvalid},
		{"end past the largest offset", ConnInfo{}, Send{File: &FileRegion{File: f, Offset: math.MaxInt64 - 1, Length: 2}}, ErrInvalid},
		{"longer than 1 TiB", ConnInfo{}, Send{File: &FileRegion{File: f, Length: maxFileRegion + 1}}, ErrInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, c.info, Options{}, nil)
			m := c.send
			m.Overlapped, m.ReplyTo, m.Tag = new(Overlapped), h.col.pid, 0
			if err := h.sock.Send(&m); err != c.want {
				t.Errorf("Send = %v, want %v", err, c.want)
			}
			if n, err := waitOv(t, m.Overlapped); n != 0 || err != c.want {
				t.Errorf("completion (%d, %v), want (0, %v)", n, err, c.want)
			}
			h.checkOnce(1)
			if w := h.fc.writes(); len(w) != 0 {
				t.Errorf("refused send wrote %+v", w)
			}
		})
	}
}

// A region past the file's end cannot be sent whole: the stream would have
// a hole, so the send fails with what it sent and the connection is reset.
func TestTransmitFileShortFile(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)
	f, _ := tempFile(t, 1000)
	h.fc.setAutoWake(true)
	ov := new(Overlapped)
	if err := h.sock.Send(&Send{File: &FileRegion{File: f, Offset: 500, Length: 1000}, Overlapped: ov, ReplyTo: h.col.pid, Tag: 0}); err != ErrIOPending {
		t.Fatal(err)
	}
	n, err := waitOv(t, ov)
	if n != 500 || !errors.Is(err, ErrConnAborted) {
		t.Errorf("completion (%d, %v), want (500, ErrConnAborted)", n, err)
	}
	h.checkOnce(1)
	if !h.fc.isClosed() {
		t.Error("the connection was not closed")
	}
}

// A file region holds no memory: it counts toward neither MaxPendingBytes
// nor Pending's bytes, where the same bytes in buffers are refused.
func TestTransmitFileHoldsNoPendingBytes(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{MaxPendingBytes: 1024}, nil)
	f, _ := tempFile(t, 64<<10)
	h.fc.setBudget(0) // the writer stalls: everything stays pending
	first, _ := h.send(0, wsabuf.Buffers{make([]byte, 512)}, 0)
	if _, err := h.send(1, wsabuf.Buffers{make([]byte, 64<<10)}, 0); err != ErrWouldBlock {
		t.Fatalf("64 KiB of buffers past the 1 KiB limit: %v, want ErrWouldBlock", err)
	}
	ov := new(Overlapped)
	if err := h.sock.Send(&Send{Buffers: wsabuf.Buffers{[]byte("head")}, File: &FileRegion{File: f, Length: 64 << 10},
		Overlapped: ov, ReplyTo: h.col.pid, Tag: 2}); err != ErrIOPending {
		t.Fatalf("a 64 KiB region past the 1 KiB limit: %v, want ErrIOPending", err)
	}
	if sends, bytes := h.sock.Pending(); sends != 2 || bytes != 512+4 {
		t.Errorf("Pending = (%d, %d), want (2, 516): the region's bytes are not held", sends, bytes)
	}
	h.fc.setBudget(-1)
	h.fc.writable()
	waitOv(t, first)
	if n, err := waitOv(t, ov); n != 4+64<<10 || err != nil {
		t.Errorf("region send (%d, %v)", n, err)
	}
	h.checkOnce(3)
	if sends, bytes := h.sock.Pending(); sends != 0 || bytes != 0 {
		t.Errorf("Pending after the completions = (%d, %d), want (0, 0)", sends, bytes)
	}
}

// The watermarks count what a send holds in memory, as the limits do: a
// file region's bytes, which the kernel reads from the file, do not make a
// socket Unwritable, and Unwritable's Pending leaves them out.
func TestTransmitFileWatermarksIgnoreRegions(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{HighWatermark: 100, LowWatermark: 30}, nil)
	f, _ := tempFile(t, 64<<10)
	h.fc.setBudget(0) // the writer stalls: everything stays pending
	region := new(Overlapped)
	if err := h.sock.Send(&Send{Buffers: wsabuf.Buffers{[]byte("head")}, File: &FileRegion{File: f, Length: 64 << 10},
		Overlapped: region, ReplyTo: h.col.pid, Tag: 0}); err != ErrIOPending {
		t.Fatalf("region send: %v, want ErrIOPending", err)
	}
	// 120 bytes of buffers behind it cross the high watermark: the first
	// Unwritable must come now, counting 4 + 120 held bytes, not before
	// with the region's 64 KiB.
	buffers, _ := h.send(1, wsabuf.Buffers{sized(120, 'b')}, 0)
	u := h.h.waitFor(t, "Unwritable", func(m any) bool { _, ok := m.(*Unwritable); return ok }).(*Unwritable)
	if u.Pending != 4+120 {
		t.Errorf("first Unwritable{Pending: %d}, want %d: the head and the buffers, not the region", u.Pending, 4+120)
	}
	h.fc.setBudget(-1)
	h.fc.writable()
	if n, err := waitOv(t, region); n != 4+64<<10 || err != nil {
		t.Errorf("region send (%d, %v)", n, err)
	}
	if n, err := waitOv(t, buffers); n != 120 || err != nil {
		t.Errorf("buffers send (%d, %v)", n, err)
	}
	w := h.h.waitFor(t, "Writable", func(m any) bool { _, ok := m.(*Writable); return ok }).(*Writable)
	if w.Pending > 30 {
		t.Errorf("Writable{Pending: %d}, want <= 30", w.Pending)
	}
	h.checkOnce(2)
}

// sendfile may stop short of what it was asked for with no error: that is
// not a full socket, so the writer goes on without waiting for Writable.
func TestTransmitFileShortCountGoesOn(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)
	f, data := tempFile(t, 50_000)
	h.fc.setPerCall(4096)
	h.fc.mu.Lock()
	h.fc.shortNil = true // short counts come with no error, as sendfile's do
	h.fc.mu.Unlock()
	ov := new(Overlapped)
	if err := h.sock.Send(&Send{File: &FileRegion{File: f, Length: 50_000}, Overlapped: ov, ReplyTo: h.col.pid, Tag: 0}); err != ErrIOPending {
		t.Fatal(err)
	}
	if n, err := waitOv(t, ov); n != 50_000 || err != nil {
		t.Errorf("completion (%d, %v), want (50000, nil)", n, err)
	}
	h.checkOnce(1)
	if got := h.fc.wireBytes(); string(got) != string(data) {
		t.Errorf("wire: %d bytes, want 50000", len(got))
	}
	for _, c := range h.fc.callLog() {
		if c.Op == "await" {
			t.Fatal("the writer waited for Writable after a short count with no error")
		}
	}
}

// The send copies its FileRegion when submitted: a caller that reuses the
// struct for the next region at once changes nothing already sent.
func TestTransmitFileRegionReused(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)
	f, data := tempFile(t, 10_000)
	h.fc.setBudget(0) // the writer stalls until both are queued
	region := &FileRegion{File: f, Offset: 0, Length: 1000}
	var ovs []*Overlapped
	for i, off := range []int64{0, 5000} {
		region.Offset = off
		ov := new(Overlapped)
		if err := h.sock.Send(&Send{Buffers: wsabuf.Buffers{[]byte("h")}, File: region, Overlapped: ov, ReplyTo: h.col.pid, Tag: i}); err != ErrIOPending {
			t.Fatal(err)
		}
		ovs = append(ovs, ov)
	}
	region.Offset, region.Length = 9990, 1 // and again, after the last send
	h.fc.setBudget(-1)
	h.fc.writable()
	for _, ov := range ovs {
		if n, err := waitOv(t, ov); n != 1001 || err != nil {
			t.Errorf("completion (%d, %v), want (1001, nil)", n, err)
		}
	}
	h.checkOnce(2)
	want := "h" + string(data[:1000]) + "h" + string(data[5000:6000])
	if got := string(h.fc.wireBytes()); got != want {
		t.Errorf("wire: %d bytes, want %d (first difference at %d)", len(got), len(want), firstDiff(got, want))
	}
}

// An empty region adds nothing: the send is its buffers, written as any
// plain send, with no sendfile.
func TestTransmitFileEmptyRegion(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, sendFromHandler)
	f, _ := tempFile(t, 10)
	r := h.sendFrom(&Send{Buffers: wsabuf.Buffers{[]byte("abc")}, File: &FileRegion{File: f, Offset: 5, Length: 0}, ReplyTo: h.col.pid, Tag: 0})
	if r.n != 3 || r.err != nil {
		t.Errorf("SendFrom = (%d, %v), want (3, nil)", r.n, r.err)
	}
	h.checkOnce(1)
	if got := string(h.fc.wireBytes()); got != "abc" {
		t.Errorf("wire %q", got)
	}
	for _, c := range h.fc.callLog() {
		if c.Op == "sendfile" {
			t.Errorf("an empty region made a sendfile call: %+v", c)
		}
	}
}

// Regions queued back to back that carry on from one another in the same
// file go in one sendfile call; each send still completes on its own, in
// order, with its own count. A region elsewhere in the file, or behind
// buffers of its own, starts a call of its own.
func TestTransmitFileContiguousRegionsShareACall(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)
	f, data := tempFile(t, 10_000)
	sends := []struct {
		head        string
		off, length int64
	}{{"", 0, 1000}, {"", 1000, 1000}, {"", 2000, 500}, {"", 5000, 1000}, {"h", 6000, 1000}}
	var ms []*Send
	for _, sd := range sends {
		m := &Send{File: &FileRegion{File: f, Offset: sd.off, Length: sd.length}}
		if sd.head != "" {
			m.Buffers = wsabuf.Buffers{[]byte(sd.head)}
		}
		ms = append(ms, m)
	}
	ovs := queueSends(t, h, ms, 0)
	for i, ov := range ovs {
		want := len(sends[i].head) + int(sends[i].length)
		if n, err := waitOv(t, ov); n != want || err != nil {
			t.Errorf("send %d: completion (%d, %v), want (%d, nil)", i, n, err, want)
		}
	}
	checkInOrder(t, h.checkOnce(len(sends)))
	want := string(data[:2500]) + string(data[5000:6000]) + "h" + string(data[6000:7000])
	if got := string(h.fc.wireBytes()); got != want {
		t.Errorf("wire: %d bytes, want %d (first difference at %d)", len(got), len(want), firstDiff(got, want))
	}
	if got := sendfileOffers(h.fc); !slices.Equal(got, []int{2500, 1000, 1000}) {
		t.Errorf("sendfile calls offered %v bytes, want [2500 1000 1000]: the three contiguous regions in one call", got)
	}
}

// checkInOrder asserts that the completions came in tag order.
func checkInOrder(t *testing.T, cs []*Completion) {
	t.Helper()
	if got := tags(cs); !ascending(got) {
		t.Errorf("completions in tag order %v, want ascending", got)
	}
}

// sendfileOffers is what each sendfile call that took bytes was offered.
func sendfileOffers(fc *fakeConn) []int {
	var offered []int
	for _, c := range fc.callLog() {
		if c.Op == "sendfile" && c.N > 0 {
			offered = append(offered, c.Offered)
		}
	}
	return offered
}

// queueSends submits ms while the writer is stalled (submitStalled), then
// lets it go with per bytes a call (0: all it is offered).
func queueSends(t *testing.T, h *harness, ms []*Send, per int) []*Overlapped {
	t.Helper()
	ovs := submitStalled(t, h, ms)
	if per > 0 {
		h.fc.setPerCall(per)
	}
	h.fc.setBudget(-1)
	h.fc.writable()
	return ovs
}

// submitStalled stalls the writer and submits ms, each tagged by its index
// with an Overlapped of its own.
func submitStalled(t *testing.T, h *harness, ms []*Send) []*Overlapped {
	t.Helper()
	h.fc.setBudget(0)
	var ovs []*Overlapped
	for i, m := range ms {
		m.Overlapped, m.ReplyTo, m.Tag = new(Overlapped), h.col.pid, i
		if err := h.sock.Send(m); err != ErrIOPending {
			t.Fatal(err)
		}
		ovs = append(ovs, m.Overlapped)
	}
	return ovs
}

// regions is sends of back-to-back regions of f of the given lengths, from
// offset 0.
func regions(f *os.File, lengths []int64) []*Send {
	var ms []*Send
	var off int64
	for _, n := range lengths {
		ms = append(ms, &Send{File: &FileRegion{File: f, Offset: off, Length: n}})
		off += n
	}
	return ms
}

// Short counts that end inside a merged run, at every kind of place, lose
// no byte and repeat none: each send completes once, in order, whole.
func TestTransmitFileMergedShortCounts(t *testing.T) {
	lengths := []int64{1000, 1000, 777, 3000, 1}
	for _, per := range []int{1, 333, 999, 1000, 1001, 1700, 4096} {
		h := newHarness(t, ConnInfo{}, Options{}, nil)
		f, data := tempFile(t, 5778)
		h.fc.mu.Lock()
		h.fc.shortNil = true // short counts come with no error, as sendfile's do
		h.fc.mu.Unlock()
		h.fc.setAutoWake(true)
		ovs := queueSends(t, h, regions(f, lengths), per)
		for i, ov := range ovs {
			if n, err := waitOv(t, ov); n != int(lengths[i]) || err != nil {
				t.Errorf("%d a call, send %d: completion (%d, %v), want (%d, nil)", per, i, n, err, lengths[i])
			}
		}
		checkInOrder(t, h.checkOnce(len(lengths)))
		if got := h.fc.wireBytes(); string(got) != string(data) {
			t.Errorf("%d a call: wire %d bytes, want %d (first difference at %d)", per, len(got), len(data), firstDiff(string(got), string(data)))
		}
	}
}

// A file that ends inside the second of three merged regions: the first
// send completes whole, the second fails with what it sent and
// ErrConnAborted, the third fails with nothing sent, and the connection
// is reset.
func TestTransmitFileMergedFileEndsInSecond(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)
	f, data := tempFile(t, 1500)
	ovs := queueSends(t, h, regions(f, []int64{1000, 1000, 1000}), 0)
	want := []struct {
		n   int
		err error
	}{{1000, nil}, {500, ErrConnAborted}, {0, ErrConnAborted}}
	for i, ov := range ovs {
		n, err := waitOv(t, ov)
		if n != want[i].n || !errors.Is(err, want[i].err) || (want[i].err == nil) != (err == nil) {
			t.Errorf("send %d: completion (%d, %v), want (%d, %v)", i, n, err, want[i].n, want[i].err)
		}
	}
	checkInOrder(t, h.checkOnce(3))
	if got := h.fc.wireBytes(); string(got) != string(data) {
		t.Errorf("wire: %d bytes, want the file's %d", len(got), len(data))
	}
	if !h.fc.isClosed() {
		t.Error("the connection was not closed")
	}
}

// Regions that carry on at the next offset, but of another file, do not
// share a sendfile call.
func TestTransmitFileMergeStopsAtAnotherFile(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)
	f, data := tempFile(t, 2000)
	g, other := tempFile(t, 2000)
	ovs := queueSends(t, h, []*Send{
		{File: &FileRegion{File: f, Offset: 0, Length: 1000}},
		{File: &FileRegion{File: g, Offset: 1000, Length: 1000}},
	}, 0)
	for i, ov := range ovs {
		if n, err := waitOv(t, ov); n != 1000 || err != nil {
			t.Errorf("send %d: completion (%d, %v), want (1000, nil)", i, n, err)
		}
	}
	h.checkOnce(2)
	if got, want := string(h.fc.wireBytes()), string(data[:1000])+string(other[1000:2000]); got != want {
		t.Errorf("wire: %d bytes, want %d (first difference at %d)", len(got), len(want), firstDiff(got, want))
	}
	if got := sendfileOffers(h.fc); !slices.Equal(got, []int{1000, 1000}) {
		t.Errorf("sendfile calls offered %v bytes, want [1000 1000]: one call a file", got)
	}
}

// Clause 14 with a file region: Abort while a send's region is half
// written completes it with ErrOperationAborted and the bytes it did send,
// its buffers' and its region's, and the send behind it with none.
func TestTransmitFileAbortHalfSent(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)
	f, data := tempFile(t, 10_000)
	h.fc.setBudget(4 + 3000) // the head and 3,000 of the region's 8,000 bytes
	release := h.fc.block(t)
	var ovs []*Overlapped
	for i, m := range []*Send{
		{Buffers: wsabuf.Buffers{[]byte("head")}, File: &FileRegion{File: f, Length: 8000}},
		{Buffers: wsabuf.Buffers{[]byte("next")}},
	} {
		m.Overlapped, m.ReplyTo, m.Tag = new(Overlapped), h.col.pid, i
		if err := h.sock.Send(m); err != ErrIOPending {
			t.Fatal(err)
		}
		ovs = append(ovs, m.Overlapped)
	}
	release()
	h.fc.waitAwait(t)
	if err := h.sock.Abort(); err != nil {
		t.Fatal(err)
	}
	want := []int{4 + 3000, 0}
	for i, ov := range ovs {
		if n, err := waitOv(t, ov); n != want[i] || !errors.Is(err, ErrOperationAborted) {
			t.Errorf("send %d: completion (%d, %v), want (%d, ErrOperationAborted)", i, n, err, want[i])
		}
	}
	h.checkOnce(2)
	if got := string(h.fc.wireBytes()); got != "head"+string(data[:3000]) {
		t.Errorf("wire: %d bytes, want %d", len(got), 4+3000)
	}
}

// An empty region with no buffers is a zero-byte send (clause 3): between
// two contiguous regions it completes with 0 bytes in its place, makes no
// sendfile call, and the regions around it each get a call of their own.
func TestTransmitFileEmptySendBetweenRegions(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)
	f, data := tempFile(t, 2000)
	ovs := queueSends(t, h, []*Send{
		{File: &FileRegion{File: f, Offset: 0, Length: 1000}},
		{File: &FileRegion{File: f, Offset: 1000, Length: 0}},
		{File: &FileRegion{File: f, Offset: 1000, Length: 1000}},
	}, 0)
	for i, want := range []int{1000, 0, 1000} {
		if n, err := waitOv(t, ovs[i]); n != want || err != nil {
			t.Errorf("send %d: completion (%d, %v), want (%d, nil)", i, n, err, want)
		}
	}
	checkInOrder(t, h.checkOnce(3))
	if got := string(h.fc.wireBytes()); got != string(data) {
		t.Errorf("wire: %d bytes, want the file's %d", len(got), len(data))
	}
	if got := sendfileOffers(h.fc); !slices.Equal(got, []int{1000, 1000}) {
		t.Errorf("sendfile calls offered %v bytes, want [1000 1000]", got)
	}
}

// Clause 14 with merged regions: a merged call can leave the send behind
// the head partly written. Flush then aborts only the sends not yet
// started; the partly written one goes on and completes whole.
func TestTransmitFileFlushAfterMergedPartial(t *testing.T) {
	h := newHarness(t, ConnInfo{}, Options{}, nil)
	f, data := tempFile(t, 3000)
	ovs := submitStalled(t, h, regions(f, []int64{1000, 1000, 1000}))
	h.fc.setBudget(1500) // one merged call stops inside the second region
	h.fc.writable()
	if n, err := waitOv(t, ovs[0]); n != 1000 || err != nil {
		t.Fatalf("send 0: completion (%d, %v), want (1000, nil)", n, err)
	}
	h.fc.waitAwait(t)
	if err := h.sock.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if n, err := waitOv(t, ovs[2]); n != 0 || !errors.Is(err, ErrOperationAborted) {
		t.Errorf("send 2, not started: (%d, %v), want (0, ErrOperationAborted)", n, err)
	}
	if _, _, done := ovs[1].Result(); done {
		t.Fatal("the partly written send was flushed")
	}
	h.fc.setBudget(-1)
	h.fc.writable()
	if n, err := waitOv(t, ovs[1]); n != 1000 || err != nil {
		t.Errorf("send 1, partly written: (%d, %v), want (1000, nil)", n, err)
	}
	h.checkOnce(3)
	if got := string(h.fc.wireBytes()); got != string(data[:2000]) {
		t.Errorf("wire: %d bytes, want the first 2,000 of the file", len(got))
	}
	if got := sendfileOffers(h.fc); len(got) == 0 || got[0] != 3000 {
		t.Errorf("sendfile calls offered %v bytes, want the first to offer all three regions (3000)", got)
	}
}
