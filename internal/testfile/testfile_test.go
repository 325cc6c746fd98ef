package testfile

import (
	"io"
	"testing"
)

// Open gives a file that reads back the bytes it was given.
func TestOpenReadsBack(t *testing.T) {
	want := []byte("a region of a file")
	f := Open(t, want)
	got, err := io.ReadAll(f)
	if err != nil || string(got) != string(want) {
		t.Fatalf("read %q, %v; want %q", got, err, want)
	}
}
