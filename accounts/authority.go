package accounts

import "context"

// Authority is the OAuth side of keyfob as the account manager sees it: it
// talks to an account's servers. The oauth package implements it.
type Authority interface {
	// Refresh gets a new access token for a (refresh_token grant, or the
	// client_credentials grant again). A rejected refresh token yields an
	// error that matches ErrLoginRequired with errors.Is. When the answer
	// cannot be used but carried a new refresh token, the error comes with
	// a Grant holding that token alone: the server may have spent the old
	// one, so the manager keeps it.
	Refresh(ctx context.Context, a Account) (Grant, error)
	// Revoke revokes a's tokens at the server where the account has a
	// revocation endpoint, and reports honestly what happened.
	Revoke(ctx context.Context, a Account) (Revocation, error)
}

// RevokeOutcome says what the server did with a revocation request.
type RevokeOutcome string

// The revocation outcomes.
const (
	// RevokedAtServer: the revocation endpoint answered 200.
	RevokedAtServer RevokeOutcome = "revoked"
	// RevokeUnsupported: the account has no revocation endpoint; only the
	// local record changes (see Revocation.ConsentURL for Tesla accounts).
	RevokeUnsupported RevokeOutcome = "unsupported"
	// RevokeFailed: the endpoint exists but the request failed.
	RevokeFailed RevokeOutcome = "failed"
	// RevokeUnconfirmed: the server answered 200 without that meaning
	// anything: the legacy owner-api's /oauth/revoke accepts every request
	// and is known to revoke nothing (TESLA.md §7). The faces report what
	// the server answered, never "revoked"; Manager.Revoke keeps the
	// tokens (it drops them only for RevokedAtServer) and marks the record
	// revoked, or removes it when asked.
	RevokeUnconfirmed RevokeOutcome = "unconfirmed"
)

// Revocation is the server-side result of a revoke.
type Revocation struct {
	Outcome RevokeOutcome
	// Revoked lists what the server accepted: "refresh_token", "access_token".
	Revoked []string
	// Detail is a human sentence about the server's answer.
	Detail string
	// ConsentURL is Tesla's consent page where the user can revoke the
	// app's access for good, when the account is a Tesla one.
	ConsentURL string
}
