package fleetapp

import (
	"strings"

	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/fleetapi"
)

// DefaultRedirectURI is the redirect URI the guide proposes for a new
// app: a loopback one, so the browser comes back to keyfob's listener.
// Tesla matches it exactly, so it must be entered at developer.tesla.com
// as it is.
const DefaultRedirectURI = "http://localhost:8765/callback"

// DeveloperSite is where a Fleet API app is created.
const DeveloperSite = "https://developer.tesla.com"

// Entry is one line of what to enter at developer.tesla.com.
type Entry struct{ Label, Value, Note string }

// AppEntries is what to enter at developer.tesla.com for an app that
// keyfob signs in with: its origin on domain, redirectURI exactly, the
// grant types that give both the user's token and the partner token, and
// the scopes keyfob asks for.
func AppEntries(domain, redirectURI string) []Entry {
	return []Entry{
		{"Application name", "a name of your own", `Tesla rejects names that contain "Tesla" or that another app has`},
		{"Allowed origin URL", "https://" + domain, "the domain that will serve the public key"},
		{"Allowed redirect URI", redirectURI, "exactly this: Tesla matches it character for character"},
		{"OAuth grant type", "Authorization Code and Machine-to-Machine", "code for your own sign-in; machine-to-machine for the partner token that registers the domain"},
		{"Scopes", strings.Join(GuideScopes(), " "), "vehicle_location is separate from vehicle_device_data since 2025"},
	}
}

// GuideScopes are the scopes the guide asks the app for (openid and
// offline_access are implied at developer.tesla.com).
func GuideScopes() []string {
	var out []string
	for _, s := range oauth.FleetScopes {
		if s != "openid" && s != "offline_access" {
			out = append(out, s)
		}
	}
	return out
}

// StepTitle is what the guide calls step s.
func StepTitle(s Step) string {
	switch s {
	case StepApp:
		return "Create the app at developer.tesla.com"
	case StepKeygen:
		return "Make the app's key pair"
	case StepHost:
		return "Publish the public key on the domain"
	case StepRegister:
		return "Register the domain with Tesla"
	case StepLogin:
		return "Sign in with the app"
	case StepPair:
		return "Add the app's key to your car"
	}
	return string(s)
}

// HostInstructions says how to publish the public key at path on domain.
func HostInstructions(domain, path string) []string {
	return []string{
		"Tesla fetches " + fleetapi.KeyURL(domain) + " (and so do the cars). Either:",
		"  • copy " + path + " to your web server, at " + fleetapi.KeyPath + ", or",
		"  • run keyfob serve and point a tunnel or reverse proxy for " + domain + " at it (it answers that path to anyone).",
	}
}

// List lists the apps keyfob knows.
func (s Apps) List() ([]App, error) {
	f, err := s.load()
	return f.Apps, err
}
