package node

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/crosstalk-dev/crosstalk/natsconf"
)

// mirrorTimeout bounds the creation of the auditor's mirrors at start.
const mirrorTimeout = 5 * time.Second

// ensureAuditMirrors creates the auditor's copies of the streams in the
// AUDIT account when the server has one (docs/security.md, "The auditor's
// account"): the service creates them, since whoever configures a mirror
// chooses where the service's account delivers it. Serving does not
// depend on them, so a failure is logged, not returned.
func (n *Node) ensureAuditMirrors(ctx context.Context, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, mirrorTimeout)
	defer cancel()
	created, err := natsconf.EnsureMirrors(ctx, n.nc)
	switch {
	case errors.Is(err, natsconf.ErrNoAuditAccount):
		logger.Debug("no AUDIT account: the auditor's mirrors are not made", slog.Any("err", err))
	case err != nil:
		logger.Warn("the auditor's mirrors in account AUDIT could not be made; 'crosstalk audit' as the auditor finds no stream",
			slog.Any("err", err))
	case len(created) > 0:
		logger.Info("created the auditor's mirrors in account AUDIT", slog.Any("streams", created))
	}
}
