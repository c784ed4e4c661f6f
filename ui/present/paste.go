package present

import (
	"net/url"
	"strings"
)

// PasteHelp is what both faces show when a sign-in ends at an address
// keyfob cannot listen on (redirect, e.g. tesla://auth/callback): where to
// find that address and what to paste, one instruction per line. The
// forms it names are the ones oauth.ParseRedirect reads (its fuzz seeds
// hold one of each).
//
// A browser does not show a tesla:// address in its address bar: nothing
// handles that scheme, so the navigation fails where the user cannot see
// it. Confirmed: Chrome and Edge print "Failed to launch 'tesla://…'
// because the scheme does not have a registered handler." in the DevTools
// console, and their Network panel keeps the requests of earlier pages
// with "Preserve log"; Firefox's Network panel shows a request's response
// headers, the redirect's location among them. Firefox's "Persist Logs"
// and everything about Safari are uncertain and said so.
func PasteHelp(redirect string) []string {
	u, err := url.Parse(strings.TrimSpace(redirect))
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		return []string{
			"After signing in, the browser lands on " + OneLine(redirect) + "; the page may show an error, which does not matter.",
			"Copy the whole address from the address bar and paste it here (just the code= value works too).",
		}
	}
	scheme := "tesla"
	if err == nil && u.Scheme != "" {
		scheme = OneLine(u.Scheme)
	}
	addr := "'" + scheme + "://…'"
	return []string{
		"Browsers cannot open " + scheme + ":// addresses and do not show them in the address bar, so catch the address before signing in:",
		"Chrome or Edge: open DevTools (F12, or Ctrl+Shift+I; Cmd+Option+I on a Mac) on its Console tab, then sign in; the console prints \"Failed to launch " + addr + " because the scheme does not have a registered handler.\": copy that whole line.",
		"If the console shows nothing, tick \"Preserve log\" in DevTools' Network tab, sign in again, select the last request and copy its Request URL, or the location header of the redirect just before it.",
		"Firefox: open the Network panel (Ctrl+Shift+E; Cmd+Option+E on a Mac) and tick \"Persist Logs\" in its settings (uncertain), then sign in; select the last request to the sign-in page (status 302) and copy the location response header.",
		"Safari: uncertain; turn on the Develop menu (Settings, Advanced), open the Web Inspector's Network tab before signing in, and copy the location header of the last redirect.",
		"Paste the line as it is: keyfob also takes the address alone, its code=…&state=… part, or just the code.",
	}
}
