package ui

import (
	"strings"

	"github.com/keyfob/keyfob/ui/common"
)

// welcome is the empty-store screen: what keyfob is and how to start.
func (m *Model) welcome(height int) []string {
	st := m.c.Styles
	w := min(m.c.Width-4, 72)
	k := func(s string) string { return st.Help.FullKey.Render(s) }
	var body []string
	body = append(body, st.Title.Render("Welcome to keyfob"), "")
	body = append(body, strings.Split(common.Paragraphs(st.Text, w,
		"keyfob keeps your Tesla API tokens fresh and at hand: every account with its live expiry countdown and granted scopes, refreshed before it expires.",
		"You have no accounts yet."), "\n")...)
	body = append(body, "",
		"  "+k(m.keys.New.Help().Key)+"  "+st.Text.Render(common.Clip("sign in — Fleet API, Owner API, partner, legacy or custom OAuth", w-5)),
		"  "+k(m.keys.Import.Help().Key)+"  "+st.Text.Render(common.Clip("import a refresh token you already have", w-5)),
		"")
	body = append(body, strings.Split(common.Paragraphs(st.Muted, w,
		"Just looking? Quit ("+m.keys.Quit.Help().Key+") and run `keyfob demo`: the same screen on a local sandbox with sample accounts, where every flow works without a Tesla account."), "\n")...)
	return common.CenterBlock(body, m.c.Width, height)
}

// errorBody explains a store that cannot be read.
func (m *Model) errorBody(height int) []string {
	st := m.c.Styles
	w := min(m.c.Width-4, 76)
	body := []string{st.ToastError.Render("keyfob cannot read its accounts"), ""}
	body = append(body, strings.Split(common.Paragraphs(st.Text, w, m.store.err.Error(),
		"keyfob looks again every second; "+m.keys.Quit.Help().Key+" quits."), "\n")...)
	return common.CenterBlock(body, m.c.Width, height)
}
