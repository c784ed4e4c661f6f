package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"
)

// reply is an answer computed before anything is written, so a fault such
// as FaultSlowDrip can decide how to deliver it.
type reply struct {
	status      int
	contentType string
	header      http.Header // extra headers
	body        []byte
}

// jsonReply encodes v as a JSON answer with status.
func jsonReply(status int, v any) reply {
	body, err := json.Marshal(v)
	if err != nil {
		// Every value the sandbox encodes is a plain map or struct.
		panic("sandbox: cannot encode a reply: " + err.Error())
	}
	return reply{status: status, contentType: "application/json", body: body}
}

// oauthError is the RFC 6749 §5.2 error body.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// errorReply is a JSON OAuth error.
func errorReply(status int, code, description string) reply {
	return jsonReply(status, oauthError{Error: code, Description: description})
}

// emptyReply is a 200 with no body, RFC 7009's answer to a revocation.
func emptyReply() reply { return reply{status: http.StatusOK} }

// loginRequired is Tesla's answer to a dead refresh token.
func loginRequired() reply {
	return errorReply(http.StatusUnauthorized, "login_required", "The refresh_token is invalid or expired")
}

// methodNotAllowed answers a request whose method the endpoint does not take.
func methodNotAllowed(allow ...string) reply {
	r := errorReply(http.StatusMethodNotAllowed, "invalid_request", "Use "+strings.Join(allow, " or ")+" for this endpoint.")
	r.header = http.Header{"Allow": {strings.Join(allow, ", ")}}
	return r
}

// writeReply sends r at once.
func writeReply(w http.ResponseWriter, r reply) {
	h := w.Header()
	for k, v := range r.header {
		h[k] = v
	}
	if r.contentType != "" {
		h.Set("Content-Type", r.contentType)
	}
	if r.contentType == "application/json" {
		// RFC 6749 §5.1: token answers must not be cached.
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
	}
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body)
}
