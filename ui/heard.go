package ui

import (
	"context"
	"maps"
	"strings"
	"sync"

	tea "charm.land/bubbletea/v2"

	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/ui/common"
	"github.com/keyfob/keyfob/ui/present"
)

// heard keeps what the services tell from inside the commands that call
// them (a redirect URI that could not be remembered), and what Update
// learns from results that it shows later (a region a refresh's tokens
// corrected), until Update shows it: commands only add, Update
// takes at its next tick or refresh result, so it never waits.
type heard struct {
	mu    sync.Mutex
	items []common.Notice
}

func (h *heard) add(n common.Notice) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.items = append(h.items, n)
}

func (h *heard) take() []common.Notice {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.items
	h.items = nil
	return out
}

// listen gives the logins of the wizard the TUI's memory of redirect URIs
// when they have none of their own: the manager's settings (config.json),
// read once when the TUI starts and kept in step with what it remembers,
// so that filling the wizard's form (in Update) reads no file.
func (m *Model) listen(o Options, l *oauth.Logins) {
	mgr := o.Manager
	memory := &redirectMemory{uris: maps.Clone(o.Config.RedirectURIs)}
	if l.RedirectFor == nil {
		l.RedirectFor = memory.get
	}
	if l.Remember == nil {
		l.Remember = func(clientID, uri string) {
			if err := mgr.RememberRedirect(context.Background(), clientID, uri); err != nil {
				m.heard.add(common.Notice{Text: "the redirect URI could not be remembered for the next sign-in: " + err.Error(), Tone: present.ToneWarn})
				return
			}
			memory.set(clientID, uri)
		}
	}
}

// redirectMemory is the TUI's copy of the redirect URIs remembered per
// Fleet API client id (config.json's redirect_uris); commands write it,
// Update reads it.
type redirectMemory struct {
	mu   sync.Mutex
	uris map[string]string
}

func (r *redirectMemory) get(clientID string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.uris[clientID]
}

func (r *redirectMemory) set(clientID, uri string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.uris == nil {
		r.uris = map[string]string{}
	}
	r.uris[clientID] = uri
}

// showHeard shows what the services told since the last time, as one
// toast.
func (m *Model) showHeard() tea.Cmd {
	items := m.heard.take()
	if len(items) == 0 {
		return nil
	}
	texts := make([]string, len(items))
	tone := present.ToneOK
	for i, n := range items {
		texts[i] = n.Text
		if n.Tone != present.ToneOK {
			tone = n.Tone
		}
	}
	return m.setToast(strings.Join(texts, "; "), tone)
}
