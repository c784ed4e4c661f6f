package sandbox

import "time"

// Knobs a test turns while the server runs, after Options set them at
// the start.

// SetRefreshGrace changes Options.RefreshGrace from now on, for tokens
// already rotated out too: with 0, every refresh token that a rotation
// replaced is dead at once.
func (s *Server) SetRefreshGrace(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.grace = d
}

// SetAccessTTL changes Options.AccessTTL for the access tokens issued from
// now on by /oauth2/v3/token (0 = 8h, as in Options).
func (s *Server) SetAccessTTL(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accessTTL = cmpOr(d, defaultAccessTTL)
}
