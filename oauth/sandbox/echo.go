package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// echoReply is the answer of FaultEcho to the token request r: the
// secrets it carries, echoed in every form a careless server might use.
func echoReply(w http.ResponseWriter, r *http.Request) reply {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	raw, _ := io.ReadAll(r.Body) // a cut body is echoed as far as it came
	var d strings.Builder
	d.WriteString("The request could not be processed: ")
	d.Write(raw)
	for _, f := range echoFields(r.Header.Get("Content-Type"), raw) {
		d.WriteString("; " + f.name + "=" + strings.Join(secretForms(f.value), " "))
	}
	if h := r.Header.Get("Authorization"); h != "" {
		d.WriteString("; Authorization: " + h)
		if user, pass, ok := r.BasicAuth(); ok {
			// RFC 6749 §2.3.1 form-encodes both; QueryEscape gives that back.
			if u, err := url.QueryUnescape(user); err == nil {
				user = u
			}
			if p, err := url.QueryUnescape(pass); err == nil {
				pass = p
			}
			d.WriteString("; user=" + strings.Join(secretForms(user), " "))
			d.WriteString("; password=" + strings.Join(secretForms(pass), " "))
		}
	}
	return jsonReply(http.StatusBadRequest, map[string]string{
		"error": "invalid_request", "error_description": d.String(), "message": string(raw),
	})
}

// echoField is one field of a request body.
type echoField struct{ name, value string }

// echoFields returns the fields of body, a JSON object or a form, sorted
// by name. A JSON value that is not a string is given as its JSON text.
func echoFields(contentType string, body []byte) []echoField {
	var out []echoField
	if mt, _, _ := mime.ParseMediaType(contentType); mt == "application/json" {
		var m map[string]json.RawMessage
		_ = json.Unmarshal(body, &m)
		for k, v := range m {
			var str string
			if json.Unmarshal(v, &str) != nil {
				str = string(v)
			}
			out = append(out, echoField{k, str})
		}
	} else {
		form, _ := url.ParseQuery(string(body)) // keeps what parses
		for k, vs := range form {
			for _, v := range vs {
				out = append(out, echoField{k, v})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b echoField) int { return strings.Compare(a.name, b.name) })
	return out
}

// secretForms returns v raw, URL-encoded, JSON-escaped, base64 and
// base64url.
func secretForms(v string) []string {
	quoted, _ := json.Marshal(v) // a string always encodes
	return []string{
		v,
		url.QueryEscape(v),
		string(quoted[1 : len(quoted)-1]),
		base64.StdEncoding.EncodeToString([]byte(v)),
		base64.RawURLEncoding.EncodeToString([]byte(v)),
	}
}
