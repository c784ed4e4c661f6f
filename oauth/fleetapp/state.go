package fleetapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"github.com/keyfob/keyfob/accounts"
)

// AppsFile is the file, in keyfob's directory, where keyfob remembers the
// user's own Fleet API apps: per client id, the domain, the redirect URI,
// the regions the domain is registered in, and the guided set-up's
// progress. It holds no secret.
const AppsFile = "fleet-apps.json"

// appsVersion is the format of AppsFile.
const appsVersion = 1

// lockWait bounds the wait for another keyfob writing AppsFile.
const lockWait = 10 * time.Second

// Step is one step of the guided set-up of an app, in order.
type Step string

// The steps, in the order the guide takes them.
const (
	StepApp      Step = "app"      // the app exists at developer.tesla.com (its client id is known)
	StepKeygen   Step = "keygen"   // the key pair exists
	StepHost     Step = "host"     // the domain serves the public key
	StepRegister Step = "register" // the domain is registered with Tesla
	StepLogin    Step = "login"    // a fleet account signed in with the app
	StepPair     Step = "pair"     // the pairing link was shown
)

// Steps lists the guide's steps in order.
var Steps = []Step{StepApp, StepKeygen, StepHost, StepRegister, StepLogin, StepPair}

// App is what keyfob remembers of one of the user's apps.
type App struct {
	ClientID    string `json:"client_id"`
	Domain      string `json:"domain,omitempty"`
	RedirectURI string `json:"redirect_uri,omitempty"`
	// Registered are the regions the domain was registered in, and when.
	Registered map[string]time.Time `json:"registered,omitempty"`
	// Done are the guide's steps done, and when.
	Done map[Step]time.Time `json:"done,omitempty"`
	// Partner and Fleet name the accounts the guide added.
	Partner string `json:"partner_account,omitempty"`
	Fleet   string `json:"fleet_account,omitempty"`
}

// IsDone reports whether step was done.
func (a App) IsDone(s Step) bool { _, ok := a.Done[s]; return ok }

// Next is the first step not done, or "" when every one is.
func (a App) Next() Step {
	for _, s := range Steps {
		if !a.IsDone(s) {
			return s
		}
	}
	return ""
}

// RegisteredRegions lists the regions the domain is registered in.
func (a App) RegisteredRegions() []string {
	var out []string
	for r := range a.Registered {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

type appsFile struct {
	Version int   `json:"version"`
	Apps    []App `json:"apps"`
}

// Apps is AppsFile in keyfob's directory Dir.
type Apps struct {
	Dir string
	Now func() time.Time
}

func (s Apps) path() string { return filepath.Join(s.Dir, AppsFile) }

func (s Apps) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Find returns the app of clientID, and false when keyfob knows none.
func (s Apps) Find(clientID string) (App, bool, error) {
	f, err := s.load()
	if err != nil {
		return App{}, false, err
	}
	for _, a := range f.Apps {
		if a.ClientID == clientID {
			return a, true, nil
		}
	}
	return App{ClientID: clientID}, false, nil
}

// Domain is the domain of clientID's app, "" when unknown or unreadable:
// the pairing link of a fleet account needs it.
func (s Apps) Domain(clientID string) string {
	a, _, err := s.Find(clientID)
	if err != nil {
		return ""
	}
	return a.Domain
}

// Update changes the app of clientID (a new one when keyfob knows none)
// under a lock, and returns it as saved.
func (s Apps) Update(ctx context.Context, clientID string, fn func(*App)) (App, error) {
	if strings.TrimSpace(clientID) == "" {
		return App{}, errors.New("an app needs its client id")
	}
	var out App
	err := s.locked(ctx, func() error {
		f, err := s.load()
		if err != nil {
			return err
		}
		i := slices.IndexFunc(f.Apps, func(a App) bool { return a.ClientID == clientID })
		if i < 0 {
			f.Apps = append(f.Apps, App{ClientID: clientID})
			i = len(f.Apps) - 1
		}
		fn(&f.Apps[i])
		out = f.Apps[i]
		data, err := json.MarshalIndent(f, "", "  ")
		if err != nil {
			return err
		}
		return accounts.WriteFile(s.path(), append(data, '\n'))
	})
	return out, err
}

// MarkDone records step as done for clientID's app.
func (s Apps) MarkDone(ctx context.Context, clientID string, step Step) (App, error) {
	now := s.now()
	return s.Update(ctx, clientID, func(a *App) {
		if a.Done == nil {
			a.Done = map[Step]time.Time{}
		}
		if _, ok := a.Done[step]; !ok {
			a.Done[step] = now
		}
	})
}

// Registered records that domain is registered in region for clientID's
// app.
func (s Apps) Registered(ctx context.Context, clientID, domain, region string) (App, error) {
	now := s.now()
	return s.Update(ctx, clientID, func(a *App) {
		if a.Domain != domain {
			a.Domain, a.Registered = domain, nil
		}
		if a.Registered == nil {
			a.Registered = map[string]time.Time{}
		}
		a.Registered[region] = now
	})
}

func (s Apps) load() (appsFile, error) {
	data, _, err := readFile(s.path())
	if errors.Is(err, ErrNoKey) {
		return appsFile{Version: appsVersion}, nil
	}
	if err != nil {
		return appsFile{}, err
	}
	var f appsFile
	if err := json.Unmarshal(data, &f); err != nil {
		return appsFile{}, fmt.Errorf("%s is not valid JSON (%v); fix or remove it: it holds only what keyfob remembers of your apps", s.path(), err)
	}
	if f.Version > appsVersion {
		return appsFile{}, fmt.Errorf("%s was written by a newer keyfob (version %d); update keyfob", s.path(), f.Version)
	}
	f.Version = appsVersion
	return f, nil
}

func (s Apps) locked(ctx context.Context, fn func() error) error {
	if err := ensureDir(s.Dir); err != nil {
		return err
	}
	l := flock.New(filepath.Join(s.Dir, "."+AppsFile+".lock"))
	ctx, cancel := context.WithTimeout(ctx, lockWait)
	defer cancel()
	ok, err := l.TryLockContext(ctx, 50*time.Millisecond)
	if err != nil || !ok {
		return fmt.Errorf("another keyfob process is writing %s; try again", s.path())
	}
	defer l.Unlock()
	return fn()
}

// OnlyDomain is the domain of the one app keyfob knows a domain of, or
// "" when it knows none or several.
func (s Apps) OnlyDomain() string {
	f, err := s.load()
	if err != nil {
		return ""
	}
	domain := ""
	for _, a := range f.Apps {
		switch {
		case a.Domain == "" || a.Domain == domain:
		case domain != "":
			return ""
		default:
			domain = a.Domain
		}
	}
	return domain
}
