package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"
	"time"
)

// tokenParams are the parameters a token request may carry. Others are
// ignored, as RFC 6749 asks.
var tokenParams = []string{"grant_type", "refresh_token", "client_id", "client_secret", "scope"}

// readParams reads a token request's parameters from its body: a form
// (RFC 6749; also when no Content-Type is given) or a JSON object of
// strings (what TeslaMate sends). On failure it returns the status and a
// sentence for the client; the body is read to at most MaxBodyBytes.
// wait is how long the body had to arrive (ServeHTTP's deadline), which
// the sentence for a late one names.
func readParams(w http.ResponseWriter, r *http.Request, wait time.Duration) (map[string]string, int, string) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	media := "application/x-www-form-urlencoded"
	if ct := r.Header.Get("Content-Type"); ct != "" {
		var err error
		if media, _, err = mime.ParseMediaType(ct); err != nil {
			return nil, http.StatusBadRequest, "the Content-Type header is malformed"
		}
	}
	var p map[string]string
	var err error
	switch media {
	case "application/x-www-form-urlencoded":
		p, err = formParams(r)
	case "application/json":
		p, err = jsonParams(r)
	default:
		return nil, http.StatusBadRequest, fmt.Sprintf("a body of type %q is not understood; send a form (application/x-www-form-urlencoded) or JSON", media)
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes", MaxBodyBytes)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, http.StatusRequestTimeout, fmt.Sprintf("the body did not arrive within %v of the request's headers; send it with them", wait)
	case err != nil:
		return nil, http.StatusBadRequest, err.Error()
	}
	return p, 0, ""
}

// formParams reads the body's form only: a credential in the query string
// is not taken (it would end up in logs along the way).
func formParams(r *http.Request) (map[string]string, error) {
	if err := r.ParseForm(); err != nil {
		if readFailed(err) {
			return nil, err
		}
		return nil, errors.New("the body is not a valid form")
	}
	p := make(map[string]string, len(tokenParams))
	for _, k := range tokenParams {
		switch v := r.PostForm[k]; len(v) {
		case 0:
		case 1:
			p[k] = v[0]
		default:
			return nil, fmt.Errorf("%s is given more than once", k)
		}
	}
	return p, nil
}

// jsonParams reads a JSON object whose token parameters are strings. A
// key given twice is refused, as in a form: which of the two counts would
// depend on the parser, and a proxy in front may have checked the other.
func jsonParams(r *http.Request) (map[string]string, error) {
	raw, err := jsonObject(json.NewDecoder(r.Body))
	if err != nil {
		return nil, err
	}
	p := make(map[string]string, len(tokenParams))
	for _, k := range tokenParams {
		v, ok := raw[k]
		if !ok || string(v) == "null" {
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, fmt.Errorf("%s must be a string", k)
		}
		p[k] = s
	}
	return p, nil
}

// jsonObject reads one JSON object, key by key, and nothing after it.
func jsonObject(dec *json.Decoder) (map[string]json.RawMessage, error) {
	notObject := errors.New("the body is not a JSON object")
	fail := func(err error) (map[string]json.RawMessage, error) {
		if readFailed(err) {
			return nil, err
		}
		return nil, notObject
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fail(err)
	}
	raw := map[string]json.RawMessage{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fail(err)
		}
		k, _ := t.(string) // a key is always a string
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return fail(err)
		}
		if _, dup := raw[k]; dup {
			if len(k) > 40 {
				k = k[:40] + "…"
			}
			return nil, fmt.Errorf("%s is given more than once", strconv.Quote(k))
		}
		raw[k] = v
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return fail(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if readFailed(err) {
			return nil, err
		}
		return nil, errors.New("the body holds more than one JSON value")
	}
	return raw, nil
}

// readFailed reports an error of reading the body, rather than of what it
// holds: too large, or too slow.
func readFailed(err error) bool {
	var tooBig *http.MaxBytesError
	return errors.As(err, &tooBig) || errors.Is(err, os.ErrDeadlineExceeded)
}
