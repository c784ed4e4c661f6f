package cli

import (
	"context"
	"errors"
	"slices"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth"
	"github.com/keyfob/keyfob/ui/present"
)

// maxAsks bounds how often one login asks again for a field that is still
// wrong; then the error is the command's.
const maxAsks = 8

// bare reports whether the login or import was started without a single
// flag of the account: in a terminal it then asks what the TUI's wizard
// asks.
func (in *AccountInputs) bare() bool {
	return !in.kindGiven && !in.regionGiven && !in.grantGiven && len(in.Inputs) == 0 &&
		in.ClientSecretFile == "" && in.AuthCodeFile == "" && !in.InsecureHTTP
}

// askAll asks the wizard's questions in the terminal: the kind, the region
// of a Tesla kind or the grant of a custom login, then every field the
// requirements table shows for them, filled with the preset's values.
// What the user changes from the preset becomes an input, as a flag would.
func (in *AccountInputs) askAll(ctx context.Context, a Asker, l *oauth.Logins, p oauth.Purpose) error {
	if err := in.askChoices(ctx, a, p); err != nil {
		return err
	}
	k := in.kind()
	preset, err := l.Preset(k, in.Region)
	if err != nil {
		return err
	}
	var shown []oauth.Requirement
	values := oauth.Inputs{}
	for _, r := range oauth.Requirements(p, k, in.Grant) {
		if !r.Hidden {
			shown = append(shown, r)
			values[r.Field] = oauth.Value(preset, r.Field)
		}
	}
	if err := a.Fields(ctx, formTitle(p, k, in.Region, in.Grant), "", k, shown, values); err != nil {
		return err
	}
	for _, r := range shown {
		if v := values[r.Field]; v != "" && v != oauth.Value(preset, r.Field) {
			in.Inputs[r.Field] = v
		}
	}
	return nil
}

// askChoices asks for the kind, then the region or the grant, each unless
// its flag was given.
func (in *AccountInputs) askChoices(ctx context.Context, a Asker, p oauth.Purpose) error {
	kinds, question := accounts.Kinds, present.AskKind
	if p == oauth.PurposeImport {
		kinds, question = slices.DeleteFunc(slices.Clone(kinds), func(k accounts.Kind) bool {
			return oauth.Requirements(p, k, "") == nil
		}), present.AskImportKind
	}
	if !in.kindGiven {
		cs := make([]Choice, len(kinds))
		for i, k := range kinds {
			cs[i] = Choice{Value: string(k), Desc: present.KindSummary(k)}
		}
		if err := a.Choose(ctx, question, cs, &in.Kind); err != nil {
			return err
		}
	}
	k := in.kind()
	switch {
	case k != accounts.KindCustom && !in.regionGiven:
		return a.Choose(ctx, present.AskRegion, choicesOf([]string{"na", "eu", "cn"}, present.RegionSummary), &in.Region)
	case k == accounts.KindCustom && p == oauth.PurposeLogin && !in.grantGiven:
		in.Grant = accounts.GrantCode
		grants := []string{accounts.GrantCode, accounts.GrantPassword, accounts.GrantClientCredentials}
		return a.Choose(ctx, present.AskGrant, choicesOf(grants, present.GrantSummary), &in.Grant)
	}
	return nil
}

func choicesOf(values []string, desc func(string) string) []Choice {
	cs := make([]Choice, len(values))
	for i, v := range values {
		cs[i] = Choice{Value: v, Desc: desc(v)}
	}
	return cs
}

// formTitle heads the form as the wizard's title does: "New login · fleet · na".
func formTitle(p oauth.Purpose, k accounts.Kind, region, grant string) string {
	t := "New login · " + string(k)
	if p == oauth.PurposeImport {
		t = "Import a refresh token · " + string(k)
	}
	switch {
	case k != accounts.KindCustom:
		t += " · " + region
	case p == oauth.PurposeLogin:
		t += " · " + grant
	}
	return t
}

// prepareAsking is prepare, except that in a terminal (a is not nil) the
// fields that are missing or wrong are asked for, with what is wrong, and
// the account prepared again: the field at fault and, the first time,
// every other required field no flag gave. Only the fields of the
// requirements table are asked; a client secret given in a file or the
// environment is not.
func (in *AccountInputs) prepareAsking(ctx context.Context, l *oauth.Logins, p oauth.Purpose, src inputSource, opts oauth.LoginOptions, a Asker) (oauth.Prepared, error) {
	for asked := 0; ; asked++ {
		prep, err := in.prepare(ctx, l, p, src, opts)
		var fe *oauth.FieldError
		if err == nil || a == nil || asked == maxAsks || !errors.As(err, &fe) || !in.askable(fe.Field, src) {
			return prep, err
		}
		reqs := in.toAsk(fe.Field, p, src, asked == 0)
		if !slices.ContainsFunc(reqs, func(r oauth.Requirement) bool { return r.Field == fe.Field }) {
			return prep, err
		}
		values := oauth.Inputs{}
		for _, r := range reqs {
			values[r.Field] = in.Inputs[r.Field]
		}
		if err := a.Fields(ctx, "", fe.Problem+".", in.kind(), reqs, values); err != nil {
			return prep, err
		}
		for f, v := range values {
			if v != "" {
				in.Inputs[f] = v
			} else {
				delete(in.Inputs, f)
			}
		}
	}
}

// askable reports whether a question can set field f: it is in the form,
// and it is not a client secret that a file or the environment gives.
func (in *AccountInputs) askable(f oauth.Field, src inputSource) bool {
	if f == oauth.FieldClientSecret && (in.ClientSecretFile != "" || src.getenv(EnvClientSecret) != "") {
		return false
	}
	if f == oauth.FieldAuthCode && (in.AuthCodeFile != "" || src.getenv(EnvAuthCode) != "") {
		return false
	}
	return f != oauth.FieldKind && f != oauth.FieldRegion && f != oauth.FieldGrant
}

// toAsk are the rows of the requirements table to ask: the field at fault
// and, with all, every other required one that no flag gave and that is
// not asked for later anyway (a password, an import's refresh token).
func (in *AccountInputs) toAsk(fault oauth.Field, p oauth.Purpose, src inputSource, all bool) []oauth.Requirement {
	var out []oauth.Requirement
	for _, r := range oauth.Requirements(p, in.kind(), in.Grant) {
		_, given := in.Inputs[r.Field]
		missing := all && r.Need == oauth.NeedRequired && !given && in.askable(r.Field, src) &&
			r.Field != oauth.FieldPassword && r.Field != oauth.FieldRefreshToken && r.Field != oauth.FieldEmail
		if r.Field == fault || missing {
			out = append(out, r)
		}
	}
	return out
}
