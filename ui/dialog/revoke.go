package dialog

import (
	"fmt"
	"strings"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/present"
)

// NewRevoke asks before revoking a, saying what will really happen, also
// to consumers, a's consumers of keyfob serve.
func NewRevoke(c *common.Common, a accounts.Account, consumers ...accounts.Consumer) *Confirm {
	who := present.Who(&a)
	var paras []string
	if endpoint := oauth.RevokeEndpoint(a); endpoint != "" && a.Kind == accounts.KindLegacy {
		paras = append(paras,
			fmt.Sprintf("keyfob will ask %s to revoke the tokens of %s, at the legacy owner-api's /oauth/revoke.", common.Host(endpoint), who),
			"That endpoint answers yes whether or not it revoked anything, so the tokens may keep working: keyfob keeps them and marks the account revoked. Changing the Tesla account's password ends them for sure.")
	} else if endpoint != "" {
		paras = append(paras, fmt.Sprintf("keyfob will ask %s to revoke the tokens of %s. Whatever uses them stops working.", common.Host(endpoint), who))
	} else {
		switch a.Kind {
		case accounts.KindFleet, accounts.KindOwner:
			paras = append(paras,
				fmt.Sprintf("Tesla documents no revocation endpoint for %s tokens, so keyfob can only mark %s revoked here; its tokens stay valid until they expire.", present.Clean(string(a.Kind)), who),
				"Afterwards keyfob shows Tesla's consent page, where you withdraw the app's access for good.")
		case accounts.KindPartner:
			paras = append(paras, fmt.Sprintf("Partner tokens cannot be revoked: keyfob can only mark %s revoked here; its access token stays valid until it expires.", who))
		default:
			paras = append(paras, fmt.Sprintf("%s has no revocation endpoint, so keyfob can only mark it revoked here; its tokens stay valid until they expire.", who))
		}
	}
	if len(consumers) > 0 {
		names := make([]string, len(consumers))
		for i, k := range consumers {
			names[i] = present.OneLine(k.Name)
		}
		paras = append(paras, fmt.Sprintf("Its consumers of keyfob serve (%s) keep their credentials, and a new login gives them its tokens again; revoke and remove takes them away with it.",
			strings.Join(names, ", ")))
	}
	name := present.OneLine(a.Name)
	return NewConfirm(c, 66, "Revoke "+name+"?", paras, "", 2,
		button("y", "revoke", true, Revoke{ID: a.ID, Name: name}),
		button("d", "revoke and remove", true, Revoke{ID: a.ID, Name: name, Remove: true}),
		button("n", "cancel", false, Close{}))
}

// NewRemove asks before forgetting a.
func NewRemove(c *common.Common, a accounts.Account) *Confirm {
	paras := []string{fmt.Sprintf("keyfob forgets %s and its tokens. Nothing is sent to the server.", present.Who(&a))}
	if a.State != accounts.StateRevoked && (a.AccessToken != "" || a.RefreshToken != "") {
		paras = append(paras, "The tokens stay valid at the server until they expire; to kill them, revoke first ("+c.Keys.Revoke+").")
	}
	name := present.OneLine(a.Name)
	return NewConfirm(c, 60, "Remove "+name+"?", paras, "", 1,
		button("y", "remove", true, Remove{ID: a.ID, Name: name}),
		button("n", "cancel", false, Close{}))
}

// Revocation is what a revocation did, as the manager reported it.
type Revocation struct {
	Name    string // the account's name, cleaned
	Removed bool   // the account was removed from the store
	Rev     accounts.Revocation
	Err     error
}

// NewRevokeResult reports what a revocation did; with a consent page it
// offers to open it or copy its address.
func NewRevokeResult(c *common.Common, r Revocation) *Confirm {
	title, paras := r.report(c.Keys)
	u := r.Rev.ConsentURL
	if u == "" {
		return NewConfirm(c, 70, title, paras, "", 0, button("enter", "close", false, Close{}))
	}
	// enter closes, as the focused button says.
	return NewConfirm(c, 70, title, paras, u, 2,
		button("o", "open the consent page", false, Open{What: "consent page", URL: u}),
		button("c", "copy its address", false, Copy{What: "the consent page address", Text: u}),
		button("enter", "close", false, Close{}))
}

// report is the explanation shown after a revocation: what the server
// did, then what keyfob did locally.
func (r Revocation) report(keys common.KeyNames) (title string, paras []string) {
	rev := r.Rev
	local := fmt.Sprintf("keyfob marked %s revoked; %s removes it from the list.", r.Name, keys.Remove)
	if r.Removed {
		local = fmt.Sprintf("keyfob removed %s from its store.", r.Name)
	}
	switch rev.Outcome {
	case accounts.RevokedAtServer:
		title = "Revoked " + r.Name + " at the server"
		detail := "The server confirmed the revocation."
		if rev.Detail != "" {
			detail = sentence(rev.Detail)
		}
		paras = append(paras, detail+" Whatever still uses those tokens stops working.")
	case accounts.RevokeUnconfirmed:
		title = "Revocation of " + r.Name + " not confirmed"
		detail := "The server answered 200, which this endpoint is known to answer without revoking anything."
		if rev.Detail != "" {
			detail = sentence(rev.Detail)
		}
		paras = append(paras, detail)
		if !r.Removed {
			local = fmt.Sprintf("keyfob marked %s revoked and kept its tokens, since they may still work; %s removes it from the list.", r.Name, keys.Remove)
		}
	case accounts.RevokeUnsupported:
		title = r.Name + " revoked locally only"
		paras = append(paras, "Nothing was revoked at the server: its tokens stay valid until they expire.")
		if rev.Detail != "" && rev.ConsentURL == "" {
			paras = append(paras, sentence(rev.Detail))
		}
	default:
		title = "The server did not revoke " + r.Name
		detail := rev.Detail
		if detail == "" && r.Err != nil {
			detail = r.Err.Error()
		}
		paras = append(paras, sentence(detail)+" The tokens were kept, so x can try again.")
	}
	if r.localFailed() {
		local = sentence(r.Err.Error())
	}
	paras = append(paras, local)
	if rev.ConsentURL != "" {
		paras = append(paras, "To withdraw the app's access at Tesla for good, open the consent page:")
	}
	return title, paras
}

// localFailed reports a revocation whose server part went as reported but
// whose store update failed (the manager then returns an error with an
// outcome other than failed).
func (r Revocation) localFailed() bool {
	return r.Err != nil && r.Rev.Outcome != accounts.RevokeFailed
}

// sentence makes a message fragment a sentence: capital first, full stop
// last.
func sentence(s string) string {
	s = strings.TrimSpace(present.OneLine(s))
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
