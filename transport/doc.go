// Package transport runs overlap's socket actors on gnet event loops.
//
// An Engine listens (TCP v4 and v6, Unix streams) and dials (the same, plus
// connected UDP); every connection becomes a socket actor spawned from the
// Props given to Listen or Dial. Listening on UDP binds one unconnected
// datagram socket whose actor receives every datagram with its sender. The bridge turns gnet's callbacks into calls
// on the socket's actor.Endpoint: bytes read are copied out of gnet's loop
// buffer into pooled buffers and delivered as actor.Received, inline on the
// loop when the socket is idle.
//
// Writes do not use gnet's outbound buffer (which copies, has no limit, and
// drops its contents on close): each socket writes its queued sends itself
// with writev on its event loop and keeps what the kernel did not take. When
// the kernel's buffer is full, a one-shot EPOLLOUT registration in the
// engine's own epoll instance reports writability. Reading is paused by
// changing the connection's interest in gnet's poller.
//
// The engine starts no goroutine beyond gnet's loops and one writability
// watcher, replaces gnet's process-wide logger with one that writes to the
// engine's slog.Logger (quiet unless given one), and Stop closes every
// socket gracefully, then the loops, leaving no goroutine behind. gnet's
// import itself starts two goroutines of its ants pool that never end; that
// is gnet's, not the engine's.
//
// Config.SpareProcessor has the engine keep GOMAXPROCS one above its loops
// while they run: to the Go runtime a loop waiting for events is in a
// system call, and with no processor spare it takes the loop's away at
// nearly every wait. Servers driven by what they read gain by it; see the
// field for what it costs goroutines that send.
//
// Linux only for now: the writability watcher uses epoll.
package transport
