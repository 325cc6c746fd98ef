package wsabuf

import "errors"

// ErrReleased reports a Buf used after its last reference was released: the
// bytes may already belong to another user of the pool. The actor package
// maps it to ErrFault (WSAEFAULT).
var ErrReleased = errors.New("wsabuf: buffer used after its last release")

// ErrExhausted reports a Pool whose byte limit is reached. The actor package
// maps it to ErrNoBufs (WSAENOBUFS).
var ErrExhausted = errors.New("wsabuf: pool limit reached")
