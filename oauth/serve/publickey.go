package serve

import (
	"bytes"
	"net/http"
)

// PublicKeyPath is where Tesla fetches a Fleet API app's public key on
// the app's domain: a tunnel or reverse proxy for the domain can point
// at keyfob serve.
const PublicKeyPath = "/.well-known/appspecific/com.tesla.3p.public-key.pem"

// servePublicKey answers GET (and HEAD) PublicKeyPath with the app's
// public key, to anyone: it is public, and Tesla and the vehicles fetch
// it without a credential. Without Options.PublicKey, or with no key pair
// made yet, the path is not found.
func (s *Server) servePublicKey(w *recorder, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		w.fail(http.StatusMethodNotAllowed, "invalid_request", "the public key is fetched with GET")
		return
	}
	var data []byte
	var err error
	if s.publicKey != nil {
		data, err = s.publicKey()
	}
	switch {
	case err != nil:
		w.rec.outcome, w.rec.err = "key_unreadable", err.Error()
		w.fail(http.StatusInternalServerError, "server_error", "keyfob cannot read the app's public key; see its log")
		return
	case len(data) == 0:
		w.fail(http.StatusNotFound, "not_found", "keyfob has no public key to serve; keyfob partner keygen makes one")
		return
	case !bytes.HasPrefix(bytes.TrimSpace(data), []byte("-----BEGIN PUBLIC KEY-----")) || bytes.Contains(data, []byte("PRIVATE")):
		// Only a public key ever leaves here, whatever is in the file.
		w.rec.outcome = "key_refused"
		w.fail(http.StatusInternalServerError, "server_error", "the app's public key file holds something else than a public key")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/x-pem-file")
	h.Set("Cache-Control", "public, max-age=300")
	h.Del("Pragma")
	w.rec.status, w.rec.outcome = http.StatusOK, "public_key"
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(data)
	}
}
