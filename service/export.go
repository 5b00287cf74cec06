package service

import (
	"context"
	"fmt"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/identity"
	"github.com/crosstalk-dev/crosstalk/projector"
	"github.com/crosstalk-dev/crosstalk/rpc"
)

// exportQuery is crosstalk.query.export (api.QueryExport): an account's
// own export, which the account itself and its app's backend may ask for,
// as for its inbox, and the admin too, unlike an inbox: an export answers
// a data subject's request, which an operator may have to serve.
type exportQuery struct {
	api.ExportQuery
	account events.Account
	by      identity.Principal
}

func (q *exportQuery) base() *api.QueryBase { return &q.QueryBase }

func (q *exportQuery) check() error {
	if err := parseAccountField("account", q.Account, &q.account); err != nil {
		return err
	}
	if err := checkLimit(q.Limit); err != nil {
		return err
	}
	if q.by.MayAdmin() == nil {
		return nil // the admin answers an account's request for its data
	}
	return q.by.MayViewAs(q.account)
}

func (s *Service) queryExport(ctx context.Context, by identity.Principal, body []byte) (any, error) {
	q := exportQuery{by: by}
	return s.answer(ctx, body, &q, func() (any, error) {
		if q.Cursor == "" {
			// An export answers a data subject's request: complete as of
			// the request, not as of how far the views had got. Its first
			// page waits for the views to hold the log's end.
			if err := s.model.WaitForEnd(ctx, s.model.Views()); err != nil {
				return nil, fmt.Errorf("%w: the views did not reach the log's end for the export: %w", ErrNotCaughtUp, err)
			}
		}
		p := projector.Page{Limit: q.Limit, Cursor: q.Cursor, MaxBytes: rpc.PageBytes(s.nc)}
		return s.model.Views().ExportPage(ctx, s.opts.Opener, q.account, p)
	})
}
