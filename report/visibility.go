package report

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/projector"
	"github.com/crosstalk-dev/crosstalk/replay"
)

// AsOfOptions configure the read model SeenBy builds
// (replay.BuildAsOf).
type AsOfOptions struct {
	// Dir is an empty directory for the Pebble store of the views as of
	// the instant. Default: a new temporary directory, removed afterwards.
	Dir string
	// Logger receives the projector's warnings. Default: discarded.
	Logger *slog.Logger
}

// View is what one account could see at an instant, by the policy in force
// then: its inbox, and in each of its conversations the messages, the
// activity status of the other participants and the read receipts.
type View struct {
	Viewer events.Account `json:"viewer"`
	At     time.Time      `json:"at"`
	// Events and LastSeq say which history the views were built from: the
	// events whose time is not after At.
	Events  uint64 `json:"events"`
	LastSeq uint64 `json:"last_seq"`
	// Policy is the policy in force at At; null before any.
	Policy        *PolicyRef               `json:"policy"`
	Inbox         []api.InboxItem          `json:"inbox"`
	Conversations []ConversationVisibility `json:"conversations"`
}

// ConversationVisibility is one conversation as the viewer could see it.
type ConversationVisibility struct {
	ConversationID string `json:"conversation_id"`
	// Messages are every message, oldest first.
	Messages []api.MessageView `json:"messages"`
	// ReadReceipts are the read markers the viewer could see, its own
	// included: account -> the last message it read.
	ReadReceipts map[string]string `json:"read_receipts"`
	// Others are the other participants, in the conversation's order.
	Others []Participant `json:"others"`
}

// Participant is what the viewer could see of another participant.
type Participant struct {
	Account        events.Account   `json:"account"`
	ActivityStatus api.PresenceView `json:"activity_status"`
	// ActivityStatusHidden says why the status was not visible ("" when
	// it was): the policy, or the account's own settings.
	ActivityStatusHidden string `json:"activity_status_hidden,omitempty"`
	// ReadReceiptHidden says why the account's read marker was not
	// visible: the policy, its own settings, or that it had read nothing.
	ReadReceiptHidden string `json:"read_receipt_hidden,omitempty"`
}

// SeenBy answers what viewer could see at instant at: it builds the views
// as of at (replay.BuildAsOf) and asks them the service's queries with
// now = at.
func SeenBy(ctx context.Context, log audit.Log, viewer events.Account, at time.Time, opts AsOfOptions) (View, error) {
	if err := opts.Validate(); err != nil {
		return View{}, err
	}
	dir := opts.Dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "crosstalk-asof-")
		if err != nil {
			return View{}, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	a, err := replay.BuildAsOf(ctx, log, at, dir, opts.Logger)
	if err != nil {
		return View{}, err
	}
	defer a.Store.Close()
	return SeenIn(a, viewer)
}

// SeenIn answers what viewer could see at a.At from the views as of then.
func SeenIn(views *replay.AsOf, viewer events.Account) (View, error) {
	a := asOf{views}
	v := View{Viewer: viewer, At: a.At, Events: a.Events, LastSeq: a.LastSeq,
		Inbox: []api.InboxItem{}, Conversations: []ConversationVisibility{}}
	p, err := a.Store.PolicyInForce(a.At)
	if err != nil {
		return View{}, err
	}
	if p != nil {
		v.Policy = &PolicyRef{Version: p.Version, Name: p.Name, EffectiveAt: p.EffectiveAt}
	}
	if v.Inbox, err = a.inbox(viewer); err != nil {
		return View{}, err
	}
	for _, item := range v.Inbox {
		c, err := a.conversation(item, viewer, p)
		if err != nil {
			return View{}, err
		}
		v.Conversations = append(v.Conversations, c)
	}
	return v, nil
}

// asOf asks the views as of an instant the service's queries.
type asOf struct{ *replay.AsOf }

// inbox reads every page of the viewer's inbox; an account with no events
// yet has an empty one.
func (a asOf) inbox(viewer events.Account) ([]api.InboxItem, error) {
	items := []api.InboxItem{}
	cursor := ""
	for {
		page, err := a.Store.Inbox(viewer, projector.MaxPageSize, cursor)
		if errors.Is(err, projector.ErrUnknownAccount) {
			return items, nil
		}
		if err != nil {
			return nil, err
		}
		items = append(items, page.Items...)
		if cursor = page.NextCursor; cursor == "" {
			return items, nil
		}
	}
}

// messages reads every page of a conversation's messages as viewer.
func (a asOf) messages(conv string, viewer events.Account) (api.MessagePage, error) {
	var all api.MessagePage
	cursor := ""
	for {
		page, err := a.Store.Messages(conv, viewer, projector.MaxPageSize, cursor, a.At)
		if err != nil {
			return api.MessagePage{}, err
		}
		all.Items = append(all.Items, page.Items...)
		all.ReadReceipts = page.ReadReceipts
		if cursor = page.NextCursor; cursor == "" {
			return all, nil
		}
	}
}

func (a asOf) conversation(item api.InboxItem, viewer events.Account, p *aggregate.Policy) (ConversationVisibility, error) {
	page, err := a.messages(item.ConversationID, viewer)
	if err != nil {
		return ConversationVisibility{}, err
	}
	c := ConversationVisibility{ConversationID: item.ConversationID, Messages: maskSealed(page.Items),
		ReadReceipts: page.ReadReceipts, Others: []Participant{}}
	for _, name := range item.Participants {
		other := events.Account(name)
		if other == viewer {
			continue
		}
		_, seen := c.ReadReceipts[string(other)]
		o, err := a.participant(item.ConversationID, viewer, other, p, seen)
		if err != nil {
			return ConversationVisibility{}, err
		}
		c.Others = append(c.Others, o)
	}
	return c, nil
}

// participant asks what viewer could see of other's activity status, and
// why not; and, unless seen, why viewer could not see other's read marker.
func (a asOf) participant(conv string, viewer, other events.Account, p *aggregate.Policy, seen bool) (Participant, error) {
	o := Participant{Account: other}
	var err error
	o.ActivityStatus, err = a.Store.Presence(viewer, other, a.At)
	if err != nil && !errors.Is(err, projector.ErrUnknownAccount) {
		return Participant{}, err
	}
	if !o.ActivityStatus.Visible {
		o.ActivityStatusHidden = hiddenBy(p, viewer, other, aggregate.ActionSeeActivityStatus, "show_activity_status")
	}
	if seen {
		return o, nil
	}
	// The participant's own view of the conversation always has its own
	// marker: it says whether there was one to hide.
	own, err := a.Store.Messages(conv, other, 1, "", a.At)
	if err != nil {
		return Participant{}, err
	}
	if _, read := own.ReadReceipts[string(other)]; !read {
		o.ReadReceiptHidden = string(other) + " had read nothing"
	} else {
		o.ReadReceiptHidden = hiddenBy(p, viewer, other, aggregate.ActionSeeReadReceipts, "send_read_receipts")
	}
	return o, nil
}

// hiddenBy says why viewer could not see action of other: the policy, if
// it denies it, or else other's own setting.
func hiddenBy(p *aggregate.Policy, viewer, other events.Account, action aggregate.Action, setting string) string {
	switch {
	case p == nil && viewer.App() != other.App():
		return fmt.Sprintf("no policy in force: %s -> %s %s denied", viewer.App(), other.App(), action)
	case !p.Allows(viewer.App(), other.App(), action):
		return fmt.Sprintf("policy v%d (%s) denies %s -> %s %s", p.Version, p.Name, viewer.App(), other.App(), action)
	}
	return fmt.Sprintf("%s's own settings (%s off)", other, setting)
}

// WriteText writes the view for people: the policy in force, the inbox,
// then each conversation's participants, read receipts and messages.
func (v View) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("what %s could see at %s\n", v.Viewer, formatTime(v.At))
	if v.LastSeq == 0 && v.Events > 0 { // a partitioned log: no one sequence
		ew.printf("history: %d events with time <= at, of every stream\n", v.Events)
	} else {
		ew.printf("history: %d events with time <= at, up to stream seq %d\n", v.Events, v.LastSeq)
	}
	if v.Policy == nil {
		ew.printf("policy in force: none (apps do not talk to each other)\n")
	} else {
		ew.printf("policy in force: %s\n", v.Policy)
	}
	ew.printf("\ninbox: %d conversation(s), newest activity first\n", len(v.Inbox))
	for _, it := range v.Inbox {
		ew.printf("  %s  %s  %s  %s  unread %d  last activity %s\n", it.ConversationID, strings.Join(it.Participants, ", "),
			crossApp(it.CrossApp), openOrClosed(it), it.Unread, formatTime(it.LastActivity))
	}
	for _, c := range v.Conversations {
		c.writeText(ew, v.Viewer)
	}
	return ew.err
}

func openOrClosed(it api.InboxItem) string {
	switch {
	case it.ClosedByPolicy != 0:
		return fmt.Sprintf("closed by policy v%d", it.ClosedByPolicy)
	case it.Closed:
		return "closed"
	}
	return "open"
}

func (c ConversationVisibility) writeText(ew *errWriter, viewer events.Account) {
	ew.printf("\nconversation %s\n", c.ConversationID)
	ew.printf("  activity status:\n")
	for _, o := range c.Others {
		if o.ActivityStatus.Visible {
			ew.printf("    %s  %s%s\n", o.Account, o.ActivityStatus.Status, lastActive(o.ActivityStatus))
		} else {
			ew.printf("    %s  not visible: %s\n", o.Account, o.ActivityStatusHidden)
		}
	}
	ew.printf("  read receipts:\n")
	for _, a := range slices.Sorted(maps.Keys(c.ReadReceipts)) {
		ew.printf("    %s  read up to %s%s\n", a, c.ReadReceipts[a], you(events.Account(a), viewer))
	}
	for _, o := range c.Others {
		if o.ReadReceiptHidden != "" {
			ew.printf("    %s  not visible: %s\n", o.Account, o.ReadReceiptHidden)
		}
	}
	ew.printf("  messages: %d\n", len(c.Messages))
	for _, m := range c.Messages {
		ew.printf("    %s  %s  %s  %s\n", formatTime(m.SentAt), m.Sender, m.MessageID, messageText(m))
	}
}

func lastActive(p api.PresenceView) string {
	if p.LastActiveAt == nil {
		return ""
	}
	return ", last active " + formatTime(*p.LastActiveAt)
}

func you(a, viewer events.Account) string {
	if a == viewer {
		return " (the viewer)"
	}
	return ""
}

// messageText is the message's text quoted, with what happened to it.
func messageText(m api.MessageView) string {
	if m.Unsent {
		return "(unsent)"
	}
	if m.Erased != nil {
		return "(erased" + strings.TrimPrefix(erasedSuffix(m.Erased), " (erased")
	}
	s := shownStored(m.Text)
	if m.Edited {
		s += " (edited)"
	}
	for _, a := range slices.Sorted(maps.Keys(m.Reactions)) {
		s += fmt.Sprintf(" [%s %s]", a, strings.Trim(shownStored(m.Reactions[a]), `"`))
	}
	return s
}

// errWriter keeps the first write error, so a report is written without
// checking every line.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
