package fleetapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/keyfob/keyfob/accounts"
)

// checkPartner runs Check for a partner account: a partner endpoint
// proves the token. Tesla's user endpoints (users/region, users/me) need
// a user context, which a partner token lacks; a 412 says that the app is
// not registered in the account's region.
func (c *Client) checkPartner(ctx context.Context, a accounts.Account, r *Report) error {
	base := r.APIBaseURL
	if base == "" {
		return ErrNoBase
	}
	r.Notes = append(r.Notes, "users/region and users/me not called: Tesla's user endpoints need a user, and a partner token acts for none")
	x, body, err := c.do(ctx, request{name: "partner_accounts/fleet_telemetry_errors", method: http.MethodGet,
		url: joinBase(base, "/api/1/partner_accounts/fleet_telemetry_errors"), token: a.AccessToken})
	r.Calls = append(r.Calls, x.All()...)
	if err != nil {
		return err
	}
	_, err = response[map[string]any](&r.Calls[len(r.Calls)-1], body)
	return err
}

// checkOwner runs Check for an owner or legacy account: the userinfo
// endpoint (owner: is the token alive at its sign-in?), then the Owner
// API itself, GET {base}/api/1/vehicles, whose answer is reported as it
// is. Since 2026-06-12 Tesla answers many owner tokens there 403
// "forbidden, see https://developer.tesla.com/docs/fleet-api": that comes
// back matching ErrOwnerAPIRefused.
func (c *Client) checkOwner(ctx context.Context, a accounts.Account, r *Report) error {
	if a.Endpoints.UserInfoURL != "" {
		if err := c.checkUserInfo(ctx, a, r); err != nil {
			return err
		}
	}
	if r.APIBaseURL == "" {
		return fmt.Errorf("%w: a %s account without an Owner API base URL has no Owner API keyfob can ask", ErrNothingToCall, a.Kind)
	}
	x, body, err := c.do(ctx, request{name: "owner-api vehicles", method: http.MethodGet,
		url: joinBase(r.APIBaseURL, "/api/1/vehicles"), token: a.AccessToken})
	r.Calls = append(r.Calls, x.All()...)
	var ae *APIError
	switch {
	case errors.As(err, &ae) && ae.Status == http.StatusForbidden:
		return fmt.Errorf("%w: %w", ErrOwnerAPIRefused, err)
	case err != nil:
		return err
	}
	vehicles, err := response[[]map[string]any](&r.Calls[len(r.Calls)-1], body)
	if err != nil {
		return err
	}
	r.Notes = append(r.Notes, fmt.Sprintf("the Owner API answered with %d vehicle(s); Tesla is closing it, so a Fleet API app of your own is the durable path", len(vehicles)))
	return nil
}
