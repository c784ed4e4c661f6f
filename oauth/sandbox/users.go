package sandbox

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"slices"
	"strings"
)

// User is an account the sandbox signs in.
type User struct {
	Email, Password, Subject, FullName string
	// Region is the user's Tesla region: "NA" (default), "EU" or "CN". It
	// becomes the ou_code claim, the prefix of opaque refresh tokens and
	// the first aud entry (FleetAPIBase of the region) of every access
	// token minted for the user; a "CN" user signs in at the China host.
	Region string
}

// DefaultUser returns the sandbox's test user: email "driver@example.com",
// password "sandbox-password", a fixed uuid-like subject, full name
// "Sandbox Driver", region "NA".
func DefaultUser() User {
	return User{
		Email:    "driver@example.com",
		Password: "sandbox-password",
		Subject:  "5f0c3a2e-7d41-4b8e-9a6c-1e2f3d4c5b6a",
		FullName: "Sandbox Driver",
		Region:   "NA",
	}
}

// withDefaults fills the empty fields of u from DefaultUser.
func withDefaults(u User) User {
	d := DefaultUser()
	if u.Email == "" {
		u.Email = d.Email
	}
	if u.Password == "" {
		u.Password = d.Password
	}
	if u.Subject == "" {
		u.Subject = d.Subject
	}
	if u.FullName == "" {
		u.FullName = d.FullName
	}
	if u.Region == "" {
		u.Region = d.Region
	}
	u.Region = strings.ToUpper(u.Region)
	return u
}

// buildUsers returns the default user followed by extra, each completed:
// an extra user needs its own email; its other empty fields take
// DefaultUser's values, except Subject, derived from the email so that
// every user has a distinct one.
func buildUsers(first User, extra []User) ([]User, error) {
	users := []User{withDefaults(first)}
	for i, u := range extra {
		if strings.TrimSpace(u.Email) == "" {
			return nil, fmt.Errorf("sandbox user %d of Options.Users has no email; every extra user needs one", i+1)
		}
		if u.Subject == "" {
			u.Subject = subjectFor(u.Email)
		}
		u = withDefaults(u)
		taken := slices.ContainsFunc(users, func(o User) bool { return strings.EqualFold(o.Email, u.Email) })
		if taken {
			return nil, fmt.Errorf("two sandbox users share the email %q; give each its own", u.Email)
		}
		users = append(users, u)
	}
	return users, nil
}

// subjectFor derives a stable uuid-like subject from an email.
func subjectFor(email string) string {
	h := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// User returns the default user: Options.User completed by DefaultUser.
func (s *Server) User() User { return s.users[0] }

// Users returns every user the sandbox knows, the default user first.
func (s *Server) Users() []User { return slices.Clone(s.users) }

// userByEmail returns the user whose email is email, ignoring case and
// surrounding spaces.
func (s *Server) userByEmail(email string) (User, bool) {
	email = strings.TrimSpace(email)
	for _, u := range s.users {
		if email != "" && strings.EqualFold(email, u.Email) {
			return u, true
		}
	}
	return User{}, false
}

// checkUser returns the user whose email and password these are.
func (s *Server) checkUser(email, password string) (User, bool) {
	u, found := s.userByEmail(email)
	if !found {
		u = s.users[0] // compare anyway, so timing tells nothing
	}
	okPassword := subtle.ConstantTimeCompare([]byte(password), []byte(u.Password)) == 1
	return u, found && okPassword
}

// hintedUser returns the user a login_hint names, or the default user.
func (s *Server) hintedUser(hint string) User {
	if u, ok := s.userByEmail(hint); ok {
		return u
	}
	return s.users[0]
}
