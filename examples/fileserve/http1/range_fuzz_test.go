package http1

import (
	"math/big"
	"strings"
	"testing"
)

// FuzzParseRange checks ParseRange against a model of RFC 9110 §14.1-14.2
// for one byte range, with positions as big integers (no overflow in the
// model):
//
//   - a header that is not a "bytes" range (unit compared without case)
//     is ignored: not ok, no error;
//   - several ranges are ignored (the RFC lets a server do so);
//   - an invalid range-spec (not first "-" [last] or "-" suffix with
//     1*DIGIT positions, or last < first) is ignored or refused with 416,
//     both of which the RFC allows, never honoured;
//   - a valid one that the file cannot satisfy (first >= size, a zero
//     suffix, an empty file) is 416;
//   - a satisfiable one gives exactly first..min(last, size-1), or the last
//     min(suffix, size) bytes; and always 0 <= Start <= End < size.
func FuzzParseRange(f *testing.F) {
	f.Add("bytes=0-9", int64(100))
	f.Add("bytes=-10", int64(5))
	f.Add("bytes=99-", int64(100))
	f.Add("bytes=0-99999999999999999999", int64(100))
	f.Add("BYTES= 1-2,3-4", int64(10))
	f.Add("bytes=-0", int64(0))
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			size = ^size // every size from 0 to MaxInt64
		}
		r, ok, err := ParseRange(h, size)
		st := status(err)
		if err != nil && (st != 416 || ok) {
			t.Fatalf("%q of %d: %v %v", h, size, ok, err)
		}
		if ok && (r.Start < 0 || r.Start > r.End || r.End >= size || r.Len() <= 0) {
			t.Fatalf("%q of %d: range %+v outside the file", h, size, r)
		}

		want := modelRange(h, size)
		switch want.kind {
		case ignore:
			if ok || err != nil {
				t.Fatalf("%q of %d: %+v %v %v, want it ignored", h, size, r, ok, err)
			}
		case invalid:
			if ok {
				t.Fatalf("%q of %d: honoured an invalid range as %+v", h, size, r)
			}
		case unsatisfiable:
			if ok || st != 416 {
				t.Fatalf("%q of %d: %+v %v %v, want 416", h, size, r, ok, err)
			}
		case satisfiable:
			if !ok || err != nil || r != want.r {
				t.Fatalf("%q of %d: %+v %v %v, want %+v", h, size, r, ok, err, want.r)
			}
		}
	})
}

// What the model says of a Range header.
const (
	ignore        = iota // not one byte range: send the whole file
	invalid              // a malformed byte range: ignore it, or 416
	unsatisfiable        // 416
	satisfiable          // the range in modelResult.r
)

type modelResult struct {
	kind int
	r    ByteRange
}

// modelRange is RFC 9110's reading of h for a file of size bytes.
func modelRange(h string, size int64) modelResult {
	unit, set, found := strings.Cut(h, "=")
	if !found || !strings.EqualFold(unit, "bytes") || strings.Contains(set, ",") {
		return modelResult{kind: ignore}
	}
	set = strings.Trim(set, " \t")
	first, last, found := strings.Cut(set, "-")
	if !found {
		return modelResult{kind: invalid}
	}
	n := big.NewInt(size)
	if first == "" { // suffix-range
		suffix, ok := digits(last)
		if !ok {
			return modelResult{kind: invalid}
		}
		if suffix.Sign() == 0 || size == 0 {
			return modelResult{kind: unsatisfiable}
		}
		if suffix.Cmp(n) >= 0 {
			return modelResult{satisfiable, ByteRange{0, size - 1}}
		}
		return modelResult{satisfiable, ByteRange{size - suffix.Int64(), size - 1}}
	}
	a, ok := digits(first)
	if !ok {
		return modelResult{kind: invalid}
	}
	end := big.NewInt(size - 1)
	if last != "" {
		b, ok := digits(last)
		if !ok || b.Cmp(a) < 0 {
			return modelResult{kind: invalid}
		}
		if b.Cmp(end) < 0 {
			end = b
		}
	}
	if a.Cmp(n) >= 0 {
		return modelResult{kind: unsatisfiable}
	}
	return modelResult{satisfiable, ByteRange{a.Int64(), end.Int64()}}
}

// digits parses 1*DIGIT of any length.
func digits(s string) (*big.Int, bool) {
	if s == "" {
		return nil, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return nil, false
		}
	}
	n, ok := new(big.Int).SetString(s, 10)
	return n, ok
}
