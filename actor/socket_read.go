package actor

// Receive-side flow control. Reading is paused in the transport (unread
// bytes stay in the kernel, whose window then pushes back on the peer) when
// the handler asks (PauseRead) or when it holds Options.MaxUnreleasedRead
// received bytes it has not released; it resumes when both are over.

// PauseRead stops reading from the socket until ResumeRead: the pull mode
// of flow control. Safe from any goroutine. An unconnected datagram socket
// (a UDP listener's) cannot pause: ErrOpNotSupported.
func (s *Socket) PauseRead() error { return s.setWantPause(1) }

// ResumeRead restarts reading after PauseRead. Safe from any goroutine.
func (s *Socket) ResumeRead() error { return s.setWantPause(0) }

func (s *Socket) setWantPause(v int32) error {
	if !s.cfg.sys.Running() {
		return ErrNotInitialised
	}
	if s.unbound() {
		return ErrOpNotSupported // a UDP listener's one socket: drop datagrams instead
	}
	s.wantPause.Store(v)
	if s.detached.Load() {
		return ErrNotSock
	}
	return s.conn.Post(s.readPoster())
}

// readPoster returns the loop task that applies the read state, making it
// on first use: most sockets never pause.
func (s *Socket) readPoster() func() {
	if p := s.readTask.Load(); p != nil {
		return *p
	}
	fn := s.applyReadState
	s.readTask.CompareAndSwap(nil, &fn)
	return *s.readTask.Load()
}

// Unreleased reports the received bytes the handler holds and has not
// released.
func (s *Socket) Unreleased() int { return int(s.unreleased.Load()) }

// released is the release hook of Received buffers; any goroutine.
func (s *Socket) released(n int) {
	left := s.unreleased.Add(-int64(n))
	if max := s.cfg.maxUnreleasedRead; max > 0 && left <= max/2 && left+int64(n) > max/2 && !s.detached.Load() {
		_ = s.conn.Post(s.readPoster())
	}
}

// applyReadState makes the transport's read state match what is wanted. Loop
// only.
func (s *Socket) applyReadState() {
	if s.closedOnce.Load() {
		return
	}
	s.userPaused = s.wantPause.Load() == 1
	if max := s.cfg.maxUnreleasedRead; max > 0 {
		u := s.unreleased.Load()
		switch {
		case u >= max:
			s.autoPaused = true
		case u <= max/2:
			s.autoPaused = false
		}
	}
	pause := s.userPaused || s.autoPaused
	if pause == s.readPaused {
		return
	}
	var err error
	if pause {
		err = s.conn.PauseRead()
	} else {
		err = s.conn.ResumeRead()
	}
	if err != nil {
		s.cfg.sys.Logger.Warn("overlap: read pause", "socket", s.pid.Id, "pause", pause, "err", err)
		return
	}
	s.readPaused = pause
}
