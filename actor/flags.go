package actor

import "fmt"

// Flags modify one send, like WSASend's dwFlags.
type Flags uint32

const (
	// MsgDontRoute asks that the data not be routed (SO_DONTROUTE for one
	// send). Applied with MSG_DONTROUTE where the OS supports it; the WSASend
	// page allows a provider to ignore it.
	MsgDontRoute Flags = 1 << iota
	// MsgOOB sends urgent data on a stream socket, after every earlier send.
	// On other sockets it fails with ErrOpNotSupported and nothing is sent.
	MsgOOB
	// MsgPartial marks the buffers as part of a message on a datagram socket:
	// pieces are gathered until a send without the flag and leave as one
	// datagram. On stream sockets it fails with ErrOpNotSupported.
	MsgPartial
	// MsgConfirm (an overlap extension, not a Winsock flag) completes the
	// send only when the peer's TCP has acknowledged every byte of it, not
	// when the kernel took them: a delivery confirmation (clause 23). Later
	// sends' completions wait behind it, so completions stay in order.
	// Stream sockets only; elsewhere ErrOpNotSupported.
	MsgConfirm

	knownFlags = MsgDontRoute | MsgOOB | MsgPartial | MsgConfirm
)

// String returns the flags as Winsock names joined by "|", e.g.
// "MSG_OOB|MSG_DONTROUTE"; unknown bits in hexadecimal.
func (f Flags) String() string {
	if f == 0 {
		return "0"
	}
	s := ""
	add := func(name string) {
		if s != "" {
			s += "|"
		}
		s += name
	}
	if f&MsgDontRoute != 0 {
		add("MSG_DONTROUTE")
	}
	if f&MsgOOB != 0 {
		add("MSG_OOB")
	}
	if f&MsgPartial != 0 {
		add("MSG_PARTIAL")
	}
	if f&MsgConfirm != 0 {
		add("MSG_CONFIRM")
	}
	if rest := f &^ knownFlags; rest != 0 {
		add(fmt.Sprintf("%#x", uint32(rest)))
	}
	return s
}
