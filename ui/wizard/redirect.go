package wizard

import (
	"strings"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
)

// fillRedirect fills a fleet login's redirect URI with the one remembered
// for the client id in the form (Tesla takes only the app's registered
// redirect URIs, exactly), unless the user typed one: the field is empty,
// or still holds what keyfob filled for another client id.
func (w *Model) fillRedirect() {
	if w.kind != accounts.KindFleet || w.purpose != purposeLogin {
		return
	}
	i := w.form.index(oauth.FieldRedirectURI)
	if i < 0 {
		return
	}
	in := &w.form.fields[i].input
	cur := strings.TrimSpace(in.Value())
	if cur != "" && cur != w.remembered {
		return
	}
	uri := w.c.Logins.RedirectFor(w.form.value(oauth.FieldClientID))
	if uri != cur {
		in.SetValue(uri)
		in.CursorStart()
	}
	w.remembered = uri
}

// fieldHelp is the help line of field f under the form; a redirect URI
// keyfob filled in says where it came from.
func (w *Model) fieldHelp(f oauth.Field) string {
	help := kindText(w.kind, f).help
	if f == oauth.FieldRedirectURI && w.remembered != "" && w.form.value(f) == w.remembered {
		help = "Remembered from the last sign-in of this app. " + help
	}
	return help
}
