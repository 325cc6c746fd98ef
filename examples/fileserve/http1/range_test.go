package http1

import (
	"testing"
	"time"
)

// Single ranges are honoured, unsatisfiable ones are 416, and everything
// else falls back to the whole file.
func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		h          string
		size       int64
		ok         bool
		start, end int64
		status     int
	}{
		{"bytes=0-9", 100, true, 0, 9, 0},
		{"bytes=10-", 100, true, 10, 99, 0},
		{"bytes=90-200", 100, true, 90, 99, 0},
		{"bytes=-10", 100, true, 90, 99, 0},
		{"bytes=-500", 100, true, 0, 99, 0},
		{"bytes=100-", 100, false, 0, 0, 416},
		{"bytes=-0", 100, false, 0, 0, 416},
		{"bytes=0-", 0, false, 0, 0, 416},
		{"", 100, false, 0, 0, 0},
		{"items=0-1", 100, false, 0, 0, 0},
		{"bytes=0-1,5-6", 100, false, 0, 0, 0},
		{"bytes=5-1", 100, false, 0, 0, 0},
		{"bytes=x-1", 100, false, 0, 0, 0},
		{"bytes=1", 100, false, 0, 0, 0},
		{"Bytes=0-9", 100, true, 0, 9, 0},
		{"bytes=+5-6", 100, false, 0, 0, 0},
		{"bytes=-+5", 100, false, 0, 0, 0},
		{"bytes=10-99999999999999999999", 100, true, 10, 99, 0},
		{"bytes=-99999999999999999999", 100, true, 0, 99, 0},
		{"bytes=99999999999999999999-", 100, false, 0, 0, 416},
		{"bytes=\u00a00-1", 100, false, 0, 0, 0},
	} {
		r, ok, err := ParseRange(tc.h, tc.size)
		if ok != tc.ok || status(err) != tc.status || ok && (r.Start != tc.start || r.End != tc.end) {
			t.Errorf("%q of %d: %+v %v %v; want %v %d-%d status %d", tc.h, tc.size, r, ok, err, tc.ok, tc.start, tc.end, tc.status)
		}
	}
}

// If-Modified-Since compares whole seconds, in any of HTTP's three date
// formats; anything unparsable means "send it".
func TestNotModified(t *testing.T) {
	mod := time.Date(2026, 11, 25, 10, 0, 0, 500e6, time.UTC)
	for _, tc := range []struct {
		ims  string
		want bool
	}{
		{FormatTime(mod), true},
		{"Wednesday, 25-Nov-26 10:00:00 GMT", true},
		{"Wed Nov 25 10:00:00 2026", true},
		{FormatTime(mod.Add(-time.Second)), false},
		{FormatTime(mod.Add(time.Hour)), true},
		{"yesterday", false},
		{"", false},
	} {
		if got := NotModified(tc.ims, mod); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.ims, got, tc.want)
		}
	}
}
