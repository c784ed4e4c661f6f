package sandbox

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// sessionCookie names the cookie of a browser signed in through the
// login form.
const sessionCookie = "sandbox_session"

// loginFormHeader marks the answers that are the login form, so that
// SignIn, playing the user, knows to fill it in.
const loginFormHeader = "X-Sandbox-Login-Form"

// promptLogin reports whether an authorize request asks the user to sign
// in again (OIDC prompt=login), whatever session the browser has.
func promptLogin(q url.Values) bool {
	return slices.Contains(strings.Fields(q.Get("prompt")), "login")
}

// session returns the user the browser of r is signed in as.
func (s *Server) session(r *http.Request) (User, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return User{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	who, ok := s.sessions[c.Value]
	return who, ok
}

// startSession signs the browser in as who: the header sets its cookie.
func (s *Server) startSession(who User) http.Header {
	id := randomHex(16)
	s.mu.Lock()
	s.sessions[id] = who
	s.mu.Unlock()
	c := &http.Cookie{Name: sessionCookie, Value: id, Path: "/oauth2/v3", HttpOnly: true, SameSite: http.SameSiteLaxMode}
	return http.Header{"Set-Cookie": {c.String()}}
}
