package serve

import "net/http"

// discovery is the OpenID Provider Metadata of the service, for clients
// that insist on discovery (openid-client's discovery()): its issuer, its
// token endpoint and the one grant it takes — nothing more, since it
// authorizes nobody and signs nothing.
type discovery struct {
	Issuer        string   `json:"issuer"`
	TokenEndpoint string   `json:"token_endpoint"`
	GrantTypes    []string `json:"grant_types_supported"`
}

// serveDiscovery answers with the service's metadata at the address the
// client used (its Host header, which ServeHTTP has checked): the issuer
// must be that URL for a client to accept it.
func (s *Server) serveDiscovery(w *recorder, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		w.fail(http.StatusMethodNotAllowed, "invalid_request", DiscoveryPath+" takes GET")
		return
	}
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if host == "" {
		host = "localhost"
	}
	issuer := scheme + "://" + host
	w.rec.outcome = "ok"
	w.send(http.StatusOK, discovery{Issuer: issuer, TokenEndpoint: issuer + TokenPath, GrantTypes: []string{"refresh_token"}})
}
