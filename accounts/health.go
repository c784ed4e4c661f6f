package accounts

import "context"

// Check tells whether the store can be used now: it answers (for etcd:
// with a quorum, through a linearizable read), it is in a format this
// keyfob reads, and this process's store key is its key. The token
// service's /healthz asks it.
func (m *Manager) Check(ctx context.Context) error {
	b, err := m.ready(ctx)
	if err != nil {
		return err
	}
	if s, ok := b.(*etcdStore); ok {
		_, _, err := s.inspect(ctx)
		return err
	}
	_, err = b.ids(ctx, 1)
	return err
}
