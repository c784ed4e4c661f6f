package sandbox

// What tests ask the sandbox about the rotation history of refresh tokens:
// whether a token a client kept is the newest of its grant or behind it.

// RefreshTokenPosition says where rt stands in the rotation history of the
// grant it belongs to: 0 when it is the newest refresh token the grant has
// been issued, 1 when exactly one was issued after it, and so on, counting
// tokens issued by rotations, whether anyone kept them or not. ok is false
// for a token the server never issued.
//
// Tokens are ordered by the instant the server's clock gave when they were
// issued: with a clock that stands still (Options.Now), tokens issued at the
// same instant share a position.
func (s *Server) RefreshTokenPosition(rt string) (pos int, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.refresh[rt]
	if !ok {
		return 0, false
	}
	// Every refresh token lives RefreshTTL from its issue, so a later
	// expiry is a later issue.
	for _, other := range s.refresh {
		if other.grant == rec.grant && other.expiry.After(rec.expiry) {
			pos++
		}
	}
	return pos, true
}
