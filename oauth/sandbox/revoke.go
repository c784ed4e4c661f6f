package sandbox

import "net/http"

// serveRevoke is RFC 7009 revocation. A refresh token ends its whole
// grant, every access token issued from it included; an access token ends
// alone. Unknown tokens get the same 200 (RFC 7009 §2.2). The client names
// itself by client_id in the form, the auth methods discovery advertises
// (client_secret_post, none); a client_id other than the token's is
// refused, but no secret is checked. A token of the other host is unknown
// here.
func (s *Server) serveRevoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeReply(w, methodNotAllowed(http.MethodPost))
		return
	}
	if s.revokeFault(w, r) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		writeReply(w, errorReply(http.StatusBadRequest, "invalid_request", "The request body is not a valid form."))
		return
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		writeReply(w, errorReply(http.StatusBadRequest, "invalid_request", "The token parameter is required."))
		return
	}
	clientID := r.PostForm.Get("client_id")
	s.mu.Lock()
	defer s.mu.Unlock()
	// The hint only orders the lookups; both kinds are tried (RFC 7009 §2.1).
	var g *grant
	var at *accessRecord
	if rec, ok := s.refresh[tok]; ok {
		g = rec.grant
	} else if rec, ok := s.access[tok]; ok {
		g, at = rec.grant, rec
	}
	if g != nil && g.china != isChina(r) {
		g, at = nil, nil
	}
	if g != nil && clientID != "" && clientID != g.clientID {
		writeReply(w, errorReply(http.StatusBadRequest, "unauthorized_client", "The token was issued to another client."))
		return
	}
	switch {
	case at != nil:
		at.revoked = true
	case g != nil:
		g.revoked = true
	}
	s.stats.Revocations++
	writeReply(w, emptyReply())
}
