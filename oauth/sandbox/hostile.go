package sandbox

import "slices"

// The text FaultHostileClaims puts into the tokens it mints, so tests can
// assert that none of it reaches a terminal unneutralised. Each holds
// control sequences a terminal would obey: OSC 0 (set the window title,
// ended by BEL), CSI 2J (clear the screen), SGR colours, a newline that
// could forge a line of output.
const (
	// HostileEmail is the email claim of the access and id tokens, and of
	// userinfo and users/me answers for those tokens.
	HostileEmail = "evil\x1b]0;pwned\x07@example.com\x1b[2J"
	// HostileName is the name and full_name claims, and users/me's
	// full_name for those tokens.
	HostileName = "Mallory \x1b[31mRed\x1b[0m Driver"
	// HostileScopeNewline is a granted scope with a newline in it.
	HostileScopeNewline = "vehicle_cmds\nkeyfob: all tokens valid"
	// HostileScopeClear is a granted scope that clears the screen.
	HostileScopeClear = "energy_cmds\x1b[2J"
	// HostileOUCode is the ou_code claim.
	HostileOUCode = "NA\x1b[0m"
)

// withHostileScopes returns scopes followed by HostileScopeNewline and
// HostileScopeClear: the scp claim and scope field of FaultHostileClaims.
func withHostileScopes(scopes []string) []string {
	return append(slices.Clone(scopes), HostileScopeNewline, HostileScopeClear)
}

// hostileUser is u as FaultHostileClaims shows it.
func hostileUser(u User) User {
	u.Email, u.FullName = HostileEmail, HostileName
	return u
}
