package fleetapi

import (
	"context"
	"net/http"
)

// Region is the answer of users/region: the user's region and the base
// URL of the Fleet API that serves it.
type Region struct {
	Region  string `json:"region"`
	BaseURL string `json:"fleet_api_base_url"`
}

// UsersRegion asks GET {base}/api/1/users/region which region the token's
// user is in. Tesla answers it at every region's base.
func (c *Client) UsersRegion(ctx context.Context, base, token string) (Region, Exchange, error) {
	x, body, err := c.do(ctx, request{name: "users/region", method: http.MethodGet,
		url: joinBase(base, "/api/1/users/region"), token: token})
	if err != nil {
		return Region{}, x, err
	}
	reg, err := response[Region](&x, body)
	return reg, x, err
}

// User is who a token acts for, as users/me or userinfo say.
type User struct {
	Email    string `json:"email"`
	FullName string `json:"full_name,omitempty"`
	Subject  string `json:"sub,omitempty"`
}

// UsersMe asks GET {base}/api/1/users/me who the token's user is; it needs
// the user_data scope and the base of the user's region (421 elsewhere).
func (c *Client) UsersMe(ctx context.Context, base, token string) (User, Exchange, error) {
	x, body, err := c.do(ctx, request{name: "users/me", method: http.MethodGet,
		url: joinBase(base, "/api/1/users/me"), token: token})
	if err != nil {
		return User{}, x, err
	}
	u, err := response[User](&x, body)
	return u, x, err
}

// UserInfo asks an OIDC userinfo endpoint (or an API answering
// {"response": {...}}) who the token's user is.
func (c *Client) UserInfo(ctx context.Context, endpoint, token string) (User, Exchange, error) {
	x, body, err := c.do(ctx, request{name: "userinfo", method: http.MethodGet, url: endpoint, token: token})
	if err != nil {
		return User{}, x, err
	}
	var out struct {
		User
		Response *User `json:"response"`
	}
	if err := decode(&x, body, &out); err != nil {
		return User{}, x, err
	}
	if out.Response != nil {
		return *out.Response, x, nil
	}
	return out.User, x, nil
}

// response decodes the "response" object in which the Fleet API wraps
// its answers; an answer without one is malformed.
func response[T any](x *Exchange, body []byte) (T, error) {
	var out struct {
		Response *T `json:"response"`
	}
	if err := decode(x, body, &out); err != nil {
		return *new(T), err
	}
	if out.Response == nil {
		return *new(T), malformed(x)
	}
	return *out.Response, nil
}

func malformed(x *Exchange) error {
	ae := &APIError{Method: x.Method, Endpoint: endpointOf(x.URL), Status: x.Status, Malformed: true}
	x.Error = ae.Error()
	return ae
}
