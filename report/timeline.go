package report

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/events"
)

// TimelineEntry is one event of a timeline: where it is in the stream, when
// it was decided, who did it, under which policy, and what it changed. (An
// event to append is an eventlog.Entry.)
type TimelineEntry struct {
	// Seq is the event's stream sequence in CROSSTALK, or in its own
	// stream of a partitioned log (the one eventlog.PartitionOf names).
	Seq uint64 `json:"seq"`
	// Time is the event's CloudEvents time: when the service decided it.
	Time time.Time `json:"time"`
	// Subject is the aggregate the event belongs to: a conversation id or
	// an account.
	Subject string `json:"subject"`
	// EventID is the event's CloudEvents id ("" if the body is undecodable).
	EventID string `json:"event_id"`
	// Type is the event's CloudEvents type, or "undecodable".
	Type events.Type `json:"type"`
	// Actor is who acted: the sender, editor, reader, caller, starter or
	// account as the type has it; "policy" for a closing by policy,
	// "opt_out" for a closing by a withdrawn opt-in.
	Actor string `json:"actor"`
	// Principal is who the NATS server authenticated as the event's cause
	// (the event's principal extension): "instagram/instagram:alice",
	// "ADMIN/admin", "service". Empty for an event written while
	// identities were self-declared, where Actor is only what was claimed.
	Principal string `json:"principal,omitempty"`
	// TraceParent is the W3C traceparent of the command that caused the
	// event (its distributed-tracing extension), so an audit can find the
	// producer's trace; empty when the command carried none.
	TraceParent string `json:"traceparent,omitempty"`
	// PolicyVersion is the policy in force when the event was decided.
	PolicyVersion uint64 `json:"policy_version"`
	// Change says in one line what the event changed, e.g.
	// `sent <message id> "hello"` or `closed by policy v2` (sealed: [sealed]).
	Change string `json:"change"`
	// Erased is the later event that erased a sealed text or reaction.
	Erased *api.Erasure `json:"erased,omitempty"`
}

// Undecodable is the Type of a TimelineEntry whose stored body is not a
// crosstalk CloudEvent; audit.Verify reports such a message as a break.
const Undecodable events.Type = "undecodable"

// Timeline is every event of a conversation, or of an account, in stream
// order.
type Timeline struct {
	// Conversation is the conversation id of a conversation's timeline.
	Conversation string `json:"conversation,omitempty"`
	// Account is the account of an account's timeline: the events on its
	// account subject and on every conversation it takes part in.
	Account events.Account `json:"account,omitempty"`
	// Conversations lists, for an account, the conversations it takes part
	// in, in the order they started.
	Conversations []string `json:"conversations,omitempty"`
	// Entries are the events, in stream order.
	Entries []TimelineEntry `json:"entries"`
	// Policies are the published policies whose versions the entries were
	// decided under, in version order.
	Policies []PolicyRef `json:"policies"`
}

// PolicyRef names one published policy version.
type PolicyRef struct {
	Version     uint64    `json:"version"`
	Name        string    `json:"name"`
	EffectiveAt time.Time `json:"effective_at"`
}

// String is "v2 cross-app-disconnect-2023-12 (effective 2023-12-14T00:00:00Z)".
func (p PolicyRef) String() string {
	return fmt.Sprintf("v%d %s (effective %s)", p.Version, p.Name, formatTime(p.EffectiveAt))
}

// ConversationTimeline returns every event on the conversation's subject,
// read from the whole stream. A conversation without events is an error.
func ConversationTimeline(ctx context.Context, log audit.Log, id string) (Timeline, error) {
	subject := events.ConversationSubject(id)
	tl := Timeline{Conversation: id, Entries: []TimelineEntry{}}
	err := walkTimeline(ctx, log, &tl, func(m events.Message) bool { return m.Subject == subject })
	if err == nil && len(tl.Entries) == 0 {
		err = fmt.Errorf("conversation %s has no events: it was never started (check the id)", id)
	}
	return tl, err
}

// AccountTimeline returns every event on the account's subject and on the
// subjects of the conversations it takes part in, in stream order. A
// conversation's participants are fixed by its conversation.started event,
// its first, so one walk of the stream finds them all.
func AccountTimeline(ctx context.Context, log audit.Log, account events.Account) (Timeline, error) {
	own := events.AccountSubject(account)
	convs := map[string]bool{}
	tl := Timeline{Account: account, Entries: []TimelineEntry{}}
	err := walkTimeline(ctx, log, &tl, func(m events.Message) bool {
		if m.Subject == own || convs[m.Subject] {
			return true
		}
		kind, id := events.ClassifySubject(m.Subject)
		if kind != events.SubjectConversation || !startedWith(m, account) {
			return false
		}
		convs[m.Subject] = true
		tl.Conversations = append(tl.Conversations, id)
		return true
	})
	if err == nil && len(tl.Entries) == 0 {
		err = fmt.Errorf("account %s has no events and takes part in no conversation (check the name)", account)
	}
	return tl, err
}

// walkTimeline walks the whole stream and appends to tl every message that
// keep selects, then lists the policies the entries were decided under.
func walkTimeline(ctx context.Context, log audit.Log, tl *Timeline, keep func(events.Message) bool) error {
	published := map[uint64]PolicyRef{}
	erased := newErasures()
	err := walkAll(ctx, log, func(m events.Message) error {
		if m.Subject == events.PolicySubject {
			notePolicy(m, published)
		}
		erased.note(m)
		if keep(m) {
			tl.Entries = append(tl.Entries, entryOf(m))
		}
		return nil
	})
	erased.mark(tl.Entries)
	if s, ok := log.(audit.Streams); ok && len(s.StreamNames()) > 1 {
		// Streams are walked one after the other; a subject's events stay
		// in order, and the timeline is put in the order they were decided.
		slices.SortStableFunc(tl.Entries, func(a, b TimelineEntry) int { return a.Time.Compare(b.Time) })
	}
	tl.Policies = []PolicyRef{}
	seen := map[uint64]bool{}
	for _, e := range tl.Entries {
		if p, ok := published[e.PolicyVersion]; ok && !seen[p.Version] {
			seen[p.Version] = true
			tl.Policies = append(tl.Policies, p)
		}
	}
	slices.SortFunc(tl.Policies, func(a, b PolicyRef) int { return cmp.Compare(a.Version, b.Version) })
	return err
}

// notePolicy records the policy a policy.published message publishes.
func notePolicy(m events.Message, into map[uint64]PolicyRef) {
	e, err := events.Decode(m.Data)
	if err != nil || e.Type != events.PolicyPublished {
		return
	}
	var d events.PolicyPublishedData
	if e.DecodeData(&d) == nil {
		into[d.Version] = PolicyRef{Version: d.Version, Name: d.Name, EffectiveAt: d.EffectiveAt.UTC()}
	}
}

// walkAll walks every stream of the log from seq 1 to its last sequence
// now (audit.WalkAll): on a partitioned log, stream after stream.
func walkAll(ctx context.Context, log audit.Log, fn func(events.Message) error) error {
	return audit.WalkAll(ctx, log, audit.EachMessage(fn))
}

// startedWith reports whether m is a conversation.started that names a
// among its participants.
func startedWith(m events.Message, a events.Account) bool {
	e, err := events.Decode(m.Data)
	if err != nil || e.Type != events.ConversationStarted {
		return false
	}
	var d events.ConversationStartedData
	if e.DecodeData(&d) != nil {
		return false
	}
	for _, p := range d.Participants {
		if p == a {
			return true
		}
	}
	return false
}

// entryOf describes one stream message. A body that does not decode is
// still an entry: an audit shows what is there.
func entryOf(m events.Message) TimelineEntry {
	_, key := events.ClassifySubject(m.Subject)
	en := TimelineEntry{Seq: m.Seq, Subject: key}
	e, err := events.Decode(m.Data)
	if err == nil {
		var data events.Payload
		if data, err = payloadOf(e); err == nil {
			en.Time, en.EventID, en.Type, en.PolicyVersion = e.Time, e.ID, e.Type, e.PolicyVersion
			en.Actor, en.Principal, en.Change = data.Actor(), e.Principal, changeOf(data)
			en.TraceParent = e.TraceParent
			return en
		}
	}
	en.Type, en.Actor, en.Change = Undecodable, "-", err.Error()
	return en
}

// payloadOf decodes the event's data into a pointer to its registered
// payload type.
func payloadOf(e events.Event) (events.Payload, error) {
	info, ok := events.Lookup(e.Type)
	if !ok {
		return nil, fmt.Errorf("%w: %s is not a history event", events.ErrMalformedEvent, e.Type)
	}
	data := info.New()
	return data, e.DecodeData(data)
}

// changeOf says in one line what the payload changed. Texts are quoted, so
// a newline in a message cannot break the line. How a change reads is the
// report's business, not the vocabulary's, so it stays a switch here;
// TestTimelineDescribesEveryRegisteredType fails for a registered type it
// has no case for.
func changeOf(data events.Payload) string {
	switch d := data.(type) {
	case *events.ConversationStartedData:
		return fmt.Sprintf("started with %s (%s)", joinAccounts(d.Participants), crossApp(d.CrossApp))
	case *events.MessageSentData:
		return fmt.Sprintf("sent %s %s", d.MessageID, shownText(d.Text, d.Sealed))
	case *events.MessageEditedData:
		return fmt.Sprintf("edited %s to %s", d.MessageID, shownText(d.Text, d.Sealed))
	case *events.MessageUnsentData:
		return "unsent " + d.MessageID
	case *events.MessageReactedData:
		if d.Reaction == "" && d.Sealed == "" {
			return "removed the reaction to " + d.MessageID
		}
		return fmt.Sprintf("reacted %s to %s", shownText(d.Reaction, d.Sealed), d.MessageID)
	case *events.MessageReadData:
		return "read up to " + d.MessageID
	case *events.CallStartedData:
		return fmt.Sprintf("started %s call %s", d.Media, d.CallID)
	case *events.CallEndedData:
		return "ended call " + d.CallID
	case *events.ConversationClosedData:
		return closedChange(d)
	case *events.PresenceChangedData:
		return "presence " + d.Status
	case *events.SettingsChangedData:
		return fmt.Sprintf("settings show_activity_status=%t send_read_receipts=%t interop_opt_in=%t",
			d.ShowActivityStatus, d.SendReadReceipts, d.InteropOptIn)
	case *events.AccountErasedData, *events.ContentExpiredData:
		return erasureChange(d)
	case *events.PolicyPublishedData:
		return fmt.Sprintf("published policy v%d %q effective %s", d.Version, d.Name, d.EffectiveAt.UTC().Format(time.RFC3339))
	}
	return ""
}

func closedChange(d *events.ConversationClosedData) string {
	if d.Reason == events.ClosedByPolicy {
		return fmt.Sprintf("closed by policy v%d", d.PolicyVersion)
	}
	return fmt.Sprintf("closed (%s) under policy v%d", d.Reason, d.PolicyVersion)
}

func joinAccounts(as []events.Account) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}

func crossApp(cross bool) string {
	if cross {
		return "cross-app"
	}
	return "same-app"
}

// ShortType is an event type without the "crosstalk." prefix and the
// schema version suffix: "message.sent" for crosstalk.message.sent.v1.
func ShortType(t events.Type) string {
	s := strings.TrimPrefix(string(t), "crosstalk.")
	if i := strings.LastIndex(s, ".v"); i > 0 {
		s = s[:i]
	}
	return s
}

// Title says whose timeline this is and how many events it has.
func (tl Timeline) Title() string {
	if tl.Account != "" {
		return fmt.Sprintf("timeline of account %s: %d events, on its account and in %d conversation(s)",
			tl.Account, len(tl.Entries), len(tl.Conversations))
	}
	return fmt.Sprintf("timeline of conversation %s: %d events", tl.Conversation, len(tl.Entries))
}

// HasPrincipals reports whether any entry records an authenticated
// principal: a history written with identities enforced.
func (tl Timeline) HasPrincipals() bool {
	for _, e := range tl.Entries {
		if e.Principal != "" {
			return true
		}
	}
	return false
}

// HasTraces reports whether any entry records a trace context.
func (tl Timeline) HasTraces() bool {
	for _, e := range tl.Entries {
		if e.TraceParent != "" {
			return true
		}
	}
	return false
}

// traceID is the trace-id field of a traceparent
// (version-traceid-parentid-flags), what a tracing system searches by.
func traceID(traceparent string) string {
	if parts := strings.Split(traceparent, "-"); len(parts) == 4 {
		return parts[1]
	}
	return cmp.Or(traceparent, "-")
}

// WriteText writes the timeline as a table, one event a line. An account's
// timeline has a SUBJECT column saying where each event is; a timeline with
// authenticated principals has a PRINCIPAL column after ACTOR ("-" for an
// event without one), so that who acted as authenticated stands beside who
// the body claimed; a timeline with trace contexts ends in a TRACE column,
// the trace id of each event's command.
func (tl Timeline) WriteText(w io.Writer) error {
	if _, err := fmt.Fprintln(w, tl.Title()); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	account, principals, traces := tl.Account != "", tl.HasPrincipals(), tl.HasTraces()
	header := "SEQ\tTIME\t"
	if account {
		header += "SUBJECT\t"
	}
	header += "ACTOR\t"
	if principals {
		header += "PRINCIPAL\t"
	}
	header += "TYPE\tPOLICY\tWHAT CHANGED"
	if traces {
		header += "\tTRACE"
	}
	fmt.Fprintln(tw, header)
	for _, e := range tl.Entries {
		fmt.Fprintf(tw, "%d\t%s\t", e.Seq, formatTime(e.Time))
		if account {
			fmt.Fprintf(tw, "%s\t", e.Subject)
		}
		fmt.Fprintf(tw, "%s\t", e.Actor)
		if principals {
			fmt.Fprintf(tw, "%s\t", cmp.Or(e.Principal, "-"))
		}
		fmt.Fprintf(tw, "%s\tv%d\t%s%s", ShortType(e.Type), e.PolicyVersion, e.Change, erasedSuffix(e.Erased))
		if traces {
			fmt.Fprintf(tw, "\t%s", traceID(e.TraceParent))
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, p := range tl.Policies {
		if _, err := fmt.Fprintf(w, "policy %s\n", p); err != nil {
			return err
		}
	}
	return nil
}

// formatTime is RFC 3339 in UTC with as many fractional digits as needed,
// "-" for the zero time (an undecodable event has none).
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339Nano)
}
