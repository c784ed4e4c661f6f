package serve

import "time"

// SetClientTimeouts sets how long a request's headers, and then its body,
// may take to arrive (readHeaderTimeout and bodyTimeout), so that a test
// of slow clients need not wait out the real ones. It must be called
// before Serve.
func (s *Server) SetClientTimeouts(headers, body time.Duration) {
	s.headerWait, s.bodyWait = headers, body
}
