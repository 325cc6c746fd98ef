package http1

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// ByteRange is a satisfiable single range of a file: bytes Start..End
// inclusive.
type ByteRange struct{ Start, End int64 }

// Len is the range's length in bytes.
func (r ByteRange) Len() int64 { return r.End - r.Start + 1 }

// ParseRange interprets a Range header for a file of size bytes. It
// returns ok false when the whole file should be sent (no header, a unit
// other than bytes, several ranges, or a malformed header, all of which
// RFC 9110 lets a server ignore), and an error with status 416 when the one
// range asked for lies past the end. Positions are digits only, and any
// number of them: a last position past the end means the end, a suffix
// longer than the file the whole file.
func ParseRange(h string, size int64) (r ByteRange, ok bool, err error) {
	const unit = "bytes=" // RFC 9110 §14.1: the unit is case-insensitive
	if len(h) < len(unit) || !strings.EqualFold(h[:len(unit)], unit) {
		return ByteRange{}, false, nil
	}
	spec := h[len(unit):]
	if strings.Contains(spec, ",") {
		return ByteRange{}, false, nil
	}
	first, last, found := strings.Cut(strings.Trim(spec, " \t"), "-")
	if !found {
		return ByteRange{}, false, nil
	}
	switch {
	case first == "": // the last N bytes
		n, valid := position(last)
		if !valid {
			return ByteRange{}, false, nil
		}
		if n == 0 || size == 0 {
			return ByteRange{}, false, fail(416, "Range Not Satisfiable")
		}
		return ByteRange{max(size-n, 0), size - 1}, true, nil
	default:
		start, valid := position(first)
		if !valid {
			return ByteRange{}, false, nil
		}
		end := size - 1
		if last != "" {
			e, valid := position(last)
			if !valid || e < start {
				return ByteRange{}, false, nil
			}
			end = min(e, size-1)
		}
		if start >= size {
			return ByteRange{}, false, fail(416, "Range Not Satisfiable")
		}
		return ByteRange{start, end}, true, nil
	}
}

// position parses a range position, 1*DIGIT; one too large for an int64
// is math.MaxInt64, past the end of any file.
func position(s string) (n int64, valid bool) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil { // only ErrRange is left
		return math.MaxInt64, true
	}
	return n, true
}

// TimeFormat is the HTTP date format (IMF-fixdate), always in GMT.
const TimeFormat = "Mon, 02 Jan 2006 15:04:05 GMT"

// FormatTime formats t for Last-Modified and Date.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// NotModified reports whether a file last modified at mod is unchanged
// since the If-Modified-Since value ims (HTTP dates have whole seconds). An
// empty or unparsable ims is never satisfied.
func NotModified(ims string, mod time.Time) bool {
	if ims == "" {
		return false
	}
	for _, layout := range []string{TimeFormat, time.RFC850, time.ANSIC} {
		if t, err := time.Parse(layout, ims); err == nil {
			return !mod.Truncate(time.Second).After(t)
		}
	}
	return false
}
