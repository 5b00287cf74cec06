package service

import (
	"context"
	"errors"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/codec"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/identity"
	"github.com/crosstalk-dev/crosstalk/projector"
	"github.com/crosstalk-dev/crosstalk/rpc"
)

// waitCaughtUp waits for q's min_seq (its after folded in, checkQuery) or
// its after on a partitioned log and, until the views have caught up with
// the stream as of the start, for that (readmodel.Model.Wait). The status
// query waits for its position alone: it must answer while the views catch
// up, to show it.
func (s *Service) waitCaughtUp(ctx context.Context, q query) error {
	_, status := q.(*statusQuery)
	return s.model.Wait(ctx, q.base().MinSeq, q.base().After, !status)
}

// query is a decoded query request that can check its own fields.
type query interface {
	check() error
	base() *api.QueryBase
}

// checkQuery checks q's own fields, then its position: an "after" is
// folded into MinSeq, the one sequence the query then waits for (both
// given: the further).
func checkQuery(q query) error {
	if err := q.check(); err != nil {
		return err
	}
	b := q.base()
	seq, err := b.After.Seq()
	if err != nil {
		return badRequest("after: %v", err)
	}
	b.MinSeq = max(b.MinSeq, seq)
	return nil
}

// answer decodes body into q, checks it, waits for its min_seq and for the
// views to reach the stream's last sequence at start (waitCaughtUp), and
// answers with fn: the one path every query takes.
func (s *Service) answer(ctx context.Context, body []byte, q query, fn func() (any, error)) (any, error) {
	if err := codec.Decode(body, q); err != nil {
		return nil, err
	}
	if err := s.checkQuery(q); err != nil {
		return nil, err
	}
	if err := s.waitCaughtUp(ctx, q); err != nil {
		return nil, err
	}
	res, err := fn()
	if errors.Is(err, projector.ErrClosed) {
		// SwapViews replaced the store between fn reading s.model.Views() and
		// the read itself, and the caller closed the old one: ask the
		// current one. A service shutting down answers ErrClosed again.
		res, err = fn()
	}
	return res, err
}

func parseAccountField(field, v string, into *events.Account) error {
	if v == "" {
		return badRequest("%s is required", field)
	}
	a, err := events.ParseAccount(v)
	if err != nil {
		return badRequest("%s: %v", field, err)
	}
	*into = a
	return nil
}

func checkConversationID(id string) error { return checkUUID("conversation_id", id) }

// checkUUID refuses with 400 an id field that is not in the one canonical
// form every id of the contract takes (codec.CheckUUID).
func checkUUID(field, id string) error { return codec.CheckUUID(field, id) }

func checkLimit(limit int) error {
	if limit < 0 || limit > 200 {
		return badRequest("limit must be between 1 and 200 (0 means the default, 20), got %d", limit)
	}
	return nil
}

// Each query carries its principal, so that check refuses (403) a
// principal who may not read what the query names, after the request's own
// errors (400) and before waiting for min_seq.

type inboxQuery struct {
	api.InboxQuery
	account events.Account
	by      identity.Principal
}

func (q *inboxQuery) base() *api.QueryBase { return &q.QueryBase }

func (q *inboxQuery) check() error {
	if err := parseAccountField("account", q.Account, &q.account); err != nil {
		return err
	}
	if err := checkLimit(q.Limit); err != nil {
		return err
	}
	return q.by.MayViewAs(q.account)
}

func (s *Service) queryInbox(ctx context.Context, by identity.Principal, body []byte) (any, error) {
	q := inboxQuery{by: by}
	return s.answer(ctx, body, &q, func() (any, error) { return s.inboxPage(ctx, &q) })
}

// queryInboxNow is queryInbox without waiting (rpc.Quick).
func (s *Service) queryInboxNow(by identity.Principal, req rpc.Request) (any, bool, error) {
	q := inboxQuery{by: by}
	// No request context here: an Opener bounds its own reads.
	return s.answerQuick(req.Data, &q, func() (any, error) { return s.inboxPage(context.Background(), &q) })
}

// inboxPage reads the page q asks for into a pooled buffer.
func (s *Service) inboxPage(ctx context.Context, q *inboxQuery) (any, error) {
	buf := rpc.NewReplyBuffer()
	page, err := s.model.Views().AppendOpenedInboxJSON(ctx, s.opts.Opener, buf.B[:0], q.account,
		projector.Page{Limit: q.Limit, Cursor: q.Cursor, MaxBytes: rpc.PageBytes(s.nc)})
	if err != nil {
		buf.Free()
		return nil, err
	}
	buf.B = page
	return buf, nil
}

type messagesQuery struct {
	api.MessagesQuery
	viewer events.Account
	by     identity.Principal
}

func (q *messagesQuery) base() *api.QueryBase { return &q.QueryBase }

func (q *messagesQuery) check() error {
	if err := checkConversationID(q.ConversationID); err != nil {
		return err
	}
	if err := parseAccountField("viewer", q.Viewer, &q.viewer); err != nil {
		return err
	}
	if err := checkLimit(q.Limit); err != nil {
		return err
	}
	// An end user naming another viewer is refused, not answered as
	// itself: messages are read as a participant, whom the viewer names.
	// The projector then checks that the viewer takes part.
	return q.by.MayViewAs(q.viewer)
}

func (s *Service) queryMessages(ctx context.Context, by identity.Principal, body []byte) (any, error) {
	q := messagesQuery{by: by}
	return s.answer(ctx, body, &q, func() (any, error) {
		p := projector.Page{Limit: q.Limit, Cursor: q.Cursor, MaxBytes: rpc.PageBytes(s.nc)}
		return s.model.Views().OpenedMessagePage(ctx, s.opts.Opener, q.ConversationID, q.viewer, p, s.opts.Clock.Now())
	})
}

type presenceQuery struct {
	api.PresenceQuery
	viewer  events.Account
	account events.Account
	by      identity.Principal
}

func (q *presenceQuery) base() *api.QueryBase { return &q.QueryBase }

func (q *presenceQuery) check() error {
	if q.Viewer == "" && q.by.Kind == identity.KindUser {
		q.Viewer = string(q.by.Self()) // it would be answered as itself anyway
	}
	if err := parseAccountField("viewer", q.Viewer, &q.viewer); err != nil {
		return err
	}
	if err := parseAccountField("account", q.Account, &q.account); err != nil {
		return err
	}
	// An end user sees presence as itself whatever viewer it claims: this
	// is where the seed's privacy rule holds against a client that lies.
	q.viewer = q.by.Viewer(q.viewer)
	return q.by.MayViewAs(q.viewer)
}

func (s *Service) queryPresence(ctx context.Context, by identity.Principal, body []byte) (any, error) {
	q := presenceQuery{by: by}
	return s.answer(ctx, body, &q, func() (any, error) {
		return s.model.Views().Presence(q.viewer, q.account, s.opts.Clock.Now())
	})
}

type conversationQuery struct{ api.ConversationQuery }

func (q *conversationQuery) base() *api.QueryBase { return &q.QueryBase }

func (q *conversationQuery) check() error { return checkConversationID(q.ConversationID) }

// queryConversation answers a participant only: whether p takes part is
// known once the conversation is read, and a refusal says nothing of it.
func (s *Service) queryConversation(ctx context.Context, by identity.Principal, body []byte) (any, error) {
	var q conversationQuery
	return s.answer(ctx, body, &q, func() (any, error) {
		v, err := s.model.Views().Conversation(q.ConversationID)
		if err == nil && by.Enforced() {
			if err := by.MayViewConversation(events.AccountsOf(v.Participants)); err != nil {
				return nil, err
			}
		}
		return v, err
	})
}

// emptyQuery is the request of the queries that take only min_seq and
// after.
type emptyQuery struct{ api.QueryBase }

func (emptyQuery) check() error { return nil }

func (q *emptyQuery) base() *api.QueryBase { return &q.QueryBase }
