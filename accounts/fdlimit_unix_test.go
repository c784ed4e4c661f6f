//go:build unix

package accounts

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"
)

// exhaustingAuth answers a refresh with a rotated token after taking every
// file descriptor the process may still open, as a flood of connections to
// the token service does while a refresh is at the server. release gives
// them back.
type exhaustingAuth struct {
	held []*os.File
}

func (e *exhaustingAuth) Refresh(context.Context, Account) (Grant, error) {
	for {
		f, err := os.Open(os.DevNull)
		if err != nil {
			if !errors.Is(err, syscall.EMFILE) {
				return Grant{}, err
			}
			break
		}
		e.held = append(e.held, f)
	}
	return Grant{AccessToken: "at-1", RefreshToken: "rt-1", Expiry: testNow.Add(time.Hour)}, nil
}

func (e *exhaustingAuth) Revoke(context.Context, Account) (Revocation, error) {
	return Revocation{}, nil
}

func (e *exhaustingAuth) release() {
	for _, f := range e.held {
		_ = f.Close()
	}
	e.held = nil
}

// TestRotationSavedWithNoDescriptorLeft: the descriptors run out while the
// refresh is at the server, and the rotated token is saved all the same:
// what saving needs was opened before the request.
func TestRotationSavedWithNoDescriptorLeft(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	low := lim
	low.Cur = min(lim.Cur, 256)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatalf("cannot lower the descriptor limit: %v", err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)

	auth := &exhaustingAuth{}
	defer auth.release()
	m := newStoreManager(t, auth)
	seed(t, m, expired())
	r, err := m.Token(context.Background(), "home", 0)
	exhausted := len(auth.held)
	auth.release()
	if exhausted == 0 {
		t.Fatal("no descriptor was taken; the test does not exhaust them")
	}
	if err != nil || r.Account.RefreshToken != "rt-1" {
		t.Fatalf("with the descriptors exhausted: %v, %q", err, r.Account.RefreshToken)
	}
	if a := snapshot(t, m).Find("000000a1"); a.RefreshToken != "rt-1" {
		t.Fatalf("stored %q: the rotation was not saved", a.RefreshToken)
	}
}
