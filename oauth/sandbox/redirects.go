package sandbox

import (
	"net/url"
	"slices"
)

// unknownRedirect is Tesla's words for a redirect_uri not registered for
// the app (vehicle-command#18, home-assistant/core#162529).
const unknownRedirect = "We don't recognize this redirect_uri."

// registeredRedirects is the initial registry: ownerapi's default, the
// given URIs, and with strictFleet an entry, possibly empty, for
// FleetClientID.
func registeredRedirects(given map[string][]string, strictFleet bool) map[string][]string {
	reg := map[string][]string{ownerClientID: {OwnerRedirectURI}}
	for id, uris := range given {
		reg[id] = slices.Clone(uris)
	}
	if _, ok := reg[FleetClientID]; strictFleet && !ok {
		reg[FleetClientID] = []string{}
	}
	return reg
}

// RegisterRedirectURI registers uri as an exact redirect URI of clientID,
// from now on. A client's first registration ends its "any absolute URI"
// regime: it may then use only its registered URIs.
func (s *Server) RegisterRedirectURI(clientID, uri string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.Contains(s.redirects[clientID], uri) {
		s.redirects[clientID] = append(s.redirects[clientID], uri)
	}
}

// redirectProblem returns why clientID may not be sent to raw, or "".
// A registered client must use one of its URIs exactly; any other client
// any absolute URI (RFC 8252 §7.3's loopback ports included).
func (s *Server) redirectProblem(clientID, raw string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.redirectProblemLocked(clientID, raw)
}

// redirectProblemLocked is redirectProblem with s.mu held.
func (s *Server) redirectProblemLocked(clientID, raw string) string {
	uris, registered := s.redirects[clientID]
	ok := slices.Contains(uris, raw)
	switch {
	case registered && raw == "":
		return "The request has no redirect_uri."
	case registered && !ok:
		return unknownRedirect
	case registered:
		return ""
	}
	return checkRedirectURI(raw)
}

// checkRedirectURI returns why raw cannot be redirected to, or "".
// Any absolute URI is accepted, tesla://auth/callback included.
func checkRedirectURI(raw string) string {
	if raw == "" {
		return "The request has no redirect_uri."
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs():
		return "The redirect_uri is not an absolute URI."
	case u.Fragment != "":
		return "The redirect_uri must not have a fragment."
	case (u.Scheme == "http" || u.Scheme == "https") && u.Host == "":
		return "The redirect_uri has no host."
	}
	return ""
}
