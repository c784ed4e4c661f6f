package cli

import (
	"errors"
	"time"

	"github.com/keyfob/keyfob/accounts"
)

// accountRef is the account a command stands for: name when the user gave
// one, else default_account of config.json ("" when unset: then the only
// account). The second result turns an error of resolving that name into
// one that says where the name came from; for a name the user gave, it
// leaves the error as it is.
func accountRef(m *accounts.Manager, name string) (string, func(error) error, error) {
	if name != "" {
		return name, keep, nil
	}
	cfg, err := m.Config()
	if err != nil {
		return "", nil, err
	}
	name = cfg.DefaultAccount
	return name, func(err error) error {
		var re *accounts.ResolveError
		if name != "" && errors.As(err, &re) && re.Ref == name {
			return &defaultAccountError{err: err}
		}
		return err
	}, nil
}

// defaultAccountError is an account that default_account of config.json
// names, and that cannot be found (or is ambiguous): the user typed no
// name, so the message says which one keyfob used.
type defaultAccountError struct{ err error }

func (e *defaultAccountError) Error() string {
	return "default_account in config.json: " + e.err.Error()
}

func (e *defaultAccountError) Unwrap() error { return e.err }

// keep is the identity: a name the user gave needs no other words.
func keep(err error) error { return err }

// marginOr is minValid, or when it is zero the refresh margin of
// config.json: how long before its end a token is replaced by exec and
// by serve.
func marginOr(m *accounts.Manager, minValid time.Duration) (time.Duration, error) {
	if minValid != 0 {
		return minValid, nil
	}
	cfg, err := m.Config()
	if err != nil {
		return 0, err
	}
	return cfg.Margin(), nil
}
