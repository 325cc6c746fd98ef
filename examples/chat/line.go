package main

import (
	"bytes"
	"strings"
)

// The chat protocol's lines, as pure functions of their input: the client
// actor (client.go) feeds the bytes it receives to a lineReader and acts on
// what parseLine makes of each line.

// verb is what a line asks of the server.
type verb uint8

const (
	verbNone verb = iota // nothing: an empty line, or /nick or /join without a name
	verbSay              // say arg to the room
	verbNick             // take arg as nickname
	verbJoin             // move to room arg
	verbQuit             // close the connection
)

// command is one parsed line.
type command struct {
	verb verb
	arg  string // the text of verbSay, the name of verbNick and verbJoin
}

// parseLine reads one line, without its line ending. "/nick NAME" and
// "/join ROOM" take the rest of the line, trimmed of white space, as the
// name, and do nothing without one; "/quit" ignores what follows it. Any
// other line, "/help" or " /quit" too, is text to say as it is; an empty
// line says nothing.
func parseLine(line string) command {
	if line == "" {
		return command{}
	}
	word, rest, _ := strings.Cut(line, " ")
	switch word {
	case "/nick", "/join":
		name := strings.TrimSpace(rest)
		switch {
		case name == "":
			return command{}
		case word == "/nick":
			return command{verbNick, name}
		default:
			return command{verbJoin, name}
		}
	case "/quit":
		return command{verb: verbQuit}
	}
	return command{verbSay, line}
}

// String formats c as the line a client sends for it (without the line
// ending); parseLine reads it back as c.
func (c command) String() string {
	switch c.verb {
	case verbSay:
		return c.arg
	case verbNick:
		return "/nick " + c.arg
	case verbJoin:
		return "/join " + c.arg
	case verbQuit:
		return "/quit"
	}
	return ""
}

// lineReader cuts a stream of bytes into lines ended by "\n"; the "\r"s
// before it (telnet's "\r\n") are dropped too. It keeps an unfinished line
// between calls. Its owner is the client actor.
type lineReader struct {
	max     int    // the longest line accepted, in bytes, without its "\n"
	partial []byte // the start of a line not yet ended
}

// feed passes each line that data completes to each, in order. It reports
// false, and stops, at a line longer than max, whether ended or not yet;
// the reader must not be fed again after that.
func (r *lineReader) feed(data []byte, each func(line string)) bool {
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			r.partial = append(r.partial, data...)
			return len(r.partial) <= r.max
		}
		line := data[:i]
		if len(r.partial) > 0 {
			line = append(r.partial, line...)
			r.partial = r.partial[:0]
		}
		data = data[i+1:]
		if len(line) > r.max {
			return false
		}
		each(strings.TrimRight(string(line), "\r"))
	}
	return true
}
