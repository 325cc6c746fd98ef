package main

import (
	"bytes"
	"strings"
	"testing"
)

// Each command, its edge cases, and text that only looks like one.
func TestParseLine(t *testing.T) {
	for _, tc := range []struct {
		line string
		want command
	}{
		{"", command{}},
		{"hello", command{verbSay, "hello"}},
		{"  spaced  ", command{verbSay, "  spaced  "}},
		{"/nick ann", command{verbNick, "ann"}},
		{"/nick  ann smith\t", command{verbNick, "ann smith"}},
		{"/nick", command{}},
		{"/nick   ", command{}},
		{"/join cellar", command{verbJoin, "cellar"}},
		{"/join", command{}},
		{"/quit", command{verb: verbQuit}},
		{"/quit now", command{verb: verbQuit}},
		{" /quit", command{verbSay, " /quit"}},
		{"/quitx", command{verbSay, "/quitx"}},
		{"/nick\tann", command{verbSay, "/nick\tann"}},
		{"/help", command{verbSay, "/help"}},
		{"/", command{verbSay, "/"}},
	} {
		if got := parseLine(tc.line); got != tc.want {
			t.Errorf("parseLine(%q) = %+v, want %+v", tc.line, got, tc.want)
		}
	}
}

// Lines are cut at "\n" wherever the chunks end, "\r\n" counts as "\n",
// an unfinished line waits for its end, and one longer than max stops the
// reader whether it has ended or not.
func TestLineReader(t *testing.T) {
	r := lineReader{max: 8}
	var got []string
	each := func(line string) { got = append(got, line) }
	for _, chunk := range []string{"he", "llo\nwor", "ld\r\n", "\n", "a\r\r\nb", "\n"} {
		if !r.feed([]byte(chunk), each) {
			t.Fatalf("feed(%q) stopped", chunk)
		}
	}
	if want := []string{"hello", "world", "", "a", "b"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("lines %q, want %q", got, want)
	}

	if r := (lineReader{max: 8}); !r.feed([]byte("12345678\n"), each) {
		t.Fatal("a line of max bytes was refused")
	}
	if r := (lineReader{max: 8}); r.feed([]byte("123456789\n"), each) {
		t.Fatal("a line past max was accepted")
	}
	r = lineReader{max: 8}
	if !r.feed([]byte("1234"), each) || r.feed([]byte("56789"), each) {
		t.Fatal("an unfinished line past max was not refused as it arrived")
	}
}

// FuzzParseLine: parseLine never panics, and its result is consistent: a
// command formatted back (command.String) parses to itself; a name is
// never empty nor has white space at its ends; text is the line itself;
// and no field holds a byte the line did not have.
func FuzzParseLine(f *testing.F) {
	for _, s := range []string{"", "hi", "/nick ann", "/join  cellar ", "/quit now", "/nick", " /quit", "/nick\u00a0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		c := parseLine(line)
		if again := parseLine(c.String()); again != c {
			t.Fatalf("%q parses to %+v, formatted %q, which parses to %+v", line, c, c.String(), again)
		}
		switch c.verb {
		case verbNone:
			if c.arg != "" {
				t.Fatalf("%q: nothing to do, with %q", line, c.arg)
			}
		case verbSay:
			if c.arg != line || line == "" {
				t.Fatalf("%q: says %q", line, c.arg)
			}
		case verbNick, verbJoin:
			if c.arg == "" || strings.TrimSpace(c.arg) != c.arg || !strings.Contains(line, c.arg) {
				t.Fatalf("%q: name %q", line, c.arg)
			}
		case verbQuit:
			if c.arg != "" || !strings.HasPrefix(line, "/quit") {
				t.Fatalf("%q: quit with %q", line, c.arg)
			}
		default:
			t.Fatalf("%q: verb %d", line, c.verb)
		}
	})
}

// FuzzLineReader feeds data to a lineReader in chunks whose lengths come
// from cuts, and checks the lines against a model: data split at "\n",
// trailing "\r"s dropped, an unended last piece held back; and the reader
// stops (false) exactly when a piece, ended or not, passes max bytes, after
// passing on every line before it. Lines never hold a "\n", and the
// result is the same however data is cut.
func FuzzLineReader(f *testing.F) {
	f.Add([]byte("hello\nworld\r\n\npartial"), []byte{3, 1, 7})
	f.Add([]byte("123456789012345678\nx\n"), []byte{20})
	f.Add([]byte("1234567890123456\n12345678901234567"), []byte{1, 2, 4, 8, 16})
	f.Add([]byte("\r\r\r\n\r\n"), []byte{0})
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		const max = 16
		r := lineReader{max: max}
		var got []string
		each := func(line string) {
			if strings.IndexByte(line, '\n') >= 0 {
				t.Fatalf("line %q holds a newline", line)
			}
			got = append(got, line)
		}
		ok := true
		for rest, i := data, 0; len(rest) > 0 && ok; i++ {
			n := len(rest)
			if len(cuts) > 0 {
				n = min(n, 1+int(cuts[i%len(cuts)]))
			}
			ok = r.feed(rest[:n], each)
			rest = rest[n:]
		}

		var want []string
		wantOK := true
		pieces := bytes.Split(data, []byte("\n"))
		for i, p := range pieces {
			if len(p) > max {
				wantOK = false
				break
			}
			if i < len(pieces)-1 { // ended by "\n"
				want = append(want, strings.TrimRight(string(p), "\r"))
			}
		}
		if ok != wantOK || strings.Join(got, "\n") != strings.Join(want, "\n") || len(got) != len(want) {
			t.Fatalf("%q cut by %v: lines %q ok %v, want %q ok %v", data, cuts, got, ok, want, wantOK)
		}
	})
}
