package ui

import (
	"encoding/hex"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/oauth/fleetapp"
	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/oauth/serve"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

// guideEnv is the TUI over a sandbox whose Fleet API is its own (never
// Tesla's), and an app's domain on loopback: keyfob serve's handler behind
// TLS, publishing the key pair of the model's store.
func guideEnv(t *testing.T) (*flowEnv, string) {
	t.Helper()
	e := newFlowEnv(t, sandbox.Options{}, nil)
	keys := fleetapp.Keys{Dir: e.dir}
	svc, err := serve.New(serve.Options{Manager: e.mgr, PublicKey: keys.Served})
	if err != nil {
		t.Fatal(err)
	}
	domain := httptest.NewUnstartedServer(svc)
	domain.Config.ErrorLog = log.New(io.Discard, "", 0)
	domain.StartTLS()
	t.Cleanup(domain.Close)
	e.srv.Close()
	e.srv = keyfobtest.Sandbox(t, sandbox.Options{PartnerHTTPClient: domain.Client()})
	e.engine.HTTPClient = domain.Client()
	presets := keyfobtest.Presets(e.srv, "")
	logins := &oauth.Logins{Engine: e.engine, Manager: e.mgr, Presets: func(k accounts.Kind, region string) (accounts.Account, error) {
		a, err := presets(k, region)
		if k == accounts.KindFleet || k == accounts.KindPartner {
			a.Audience = e.srv.FleetAPIBase(a.Region)
		}
		return a, err
	}}
	e.m = newModelFor(t, Options{Manager: e.mgr, Engine: e.engine, Logins: logins}, 100, 30)
	e.d = newDriver(t, e.m)
	return e, domain.Listener.Addr().String()
}

// TestGuideInTheWizard: the wizard's "new app" entry walks through the
// same steps as keyfob login --guide, and ends with the fleet account
// signed in with the app, the domain registered in na and eu, and every
// step remembered.
func TestGuideInTheWizard(t *testing.T) {
	t.Parallel()
	e, domain := guideEnv(t)
	redirect := keyfobtest.FreeRedirect(t)
	e.d.Press("n", "up", "enter", "enter") // new login → new app → na
	e.d.Until("the guide's first step", func() bool { return strings.Contains(dialogText(e.m), "Create the app at developer.tesla.com") })
	text := dialogText(e.m)
	for _, want := range []string{"Authorization Code and Machine-to-Machine", "vehicle_location", fleetapp.DefaultRedirectURI} {
		if !strings.Contains(text, want) {
			t.Errorf("the app's entries lack %q:\n%s", want, text)
		}
	}
	e.d.Press("type:"+domain, "tab", "type:"+sandbox.PartnerClientID, "tab", "type:"+sandbox.PartnerSecret, "tab",
		"ctrl+u", "type:"+redirect, "enter")
	e.d.Until("the key pair step", func() bool { return strings.Contains(dialogText(e.m), "Make the app's key pair") })
	e.d.Press("enter")
	e.d.Until("the host step", func() bool { return strings.Contains(dialogText(e.m), "Publish the public key on the domain") })
	e.d.Press("enter")
	e.d.Until("the register step", func() bool { return strings.Contains(dialogText(e.m), "Register the domain with Tesla") })
	e.d.Press("enter")
	e.d.Until("the sign-in step", func() bool { return strings.Contains(dialogText(e.m), "Sign in with the app") })
	if text := dialogText(e.m); !strings.Contains(text, "registered in na") || !strings.Contains(text, "registered in eu") {
		t.Fatalf("the registration's outcome:\n%s", text)
	}
	e.d.Press("enter")
	e.d.Until("the pairing step", func() bool { return strings.Contains(dialogText(e.m), "Add the app's key to your car") })
	if !strings.Contains(dialogText(e.m), "https://tesla.com/_ak/"+domain) {
		t.Fatalf("no pairing link:\n%s", dialogText(e.m))
	}
	e.d.Press("enter")
	e.d.Until("the wizard to close", e.noModals)

	_, point, err := fleetapp.Keys{Dir: e.dir}.Public()
	if err != nil {
		t.Fatal(err)
	}
	for _, region := range []string{"na", "eu"} {
		if got, ok := e.srv.PartnerPublicKey(region, domain); !ok || hex.EncodeToString(got) != hex.EncodeToString(point) {
			t.Fatalf("not registered in %s", region)
		}
	}
	var fleet accounts.Account
	for _, a := range e.stored(t) {
		if a.Kind == accounts.KindFleet {
			fleet = a
		}
	}
	if fleet.ClientID != sandbox.PartnerClientID || fleet.Endpoints.RedirectURI != redirect || !e.srv.RefreshTokenLive(fleet.RefreshToken) {
		t.Fatalf("the fleet account: %+v", fleet)
	}
	app, _, _ := (fleetapp.Apps{Dir: e.dir}).Find(sandbox.PartnerClientID)
	if app.Next() != "" || app.Fleet != fleet.Name {
		t.Fatalf("progress: %+v", app)
	}
	e.d.Until("the new account to be selected", func() bool {
		r := e.m.list.Selected()
		return r != nil && r.ID() == fleet.ID
	})
}

// TestGuideInTheWizardResumes: closed after the first step, the guide
// opens again at the second, the first one marked done.
func TestGuideInTheWizardResumes(t *testing.T) {
	t.Parallel()
	e, domain := guideEnv(t)
	e.d.Press("n", "up", "enter", "enter")
	e.d.Until("the guide's first step", func() bool { return strings.Contains(dialogText(e.m), "Create the app") })
	e.d.Press("type:"+domain, "tab", "type:my-app", "tab", "type:s3cret", "enter")
	e.d.Until("the key pair step", func() bool { return strings.Contains(dialogText(e.m), "Make the app's key pair") })
	e.d.Press("esc")
	e.d.Until("the wizard to close", e.noModals)
	e.d.Press("n", "up", "enter", "enter")
	e.d.Until("the guide again", func() bool { return strings.Contains(dialogText(e.m), "Make the app's key pair") })
	if text := dialogText(e.m); !strings.Contains(text, "✓ app") || !strings.Contains(text, "(step 2 of 6)") {
		t.Fatalf("resumed:\n%s", text)
	}
}
