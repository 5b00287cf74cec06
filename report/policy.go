package report

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/events"
)

// Rejections is what the policy report reads of the stream of refused
// commands. *eventlog.Rejections implements it: Read delivers every record
// whose subject matches filter ("" for all) up to the stream's end now.
type Rejections interface {
	Read(ctx context.Context, filter string, fn func(events.Message) error) error
}

// EventRef points at one event of the history.
type EventRef struct {
	Seq     uint64      `json:"seq"`
	Time    time.Time   `json:"time"`
	Subject string      `json:"subject"`
	Type    events.Type `json:"type"`
	EventID string      `json:"event_id"`
}

// Closing is one conversation a policy version closed.
type Closing struct {
	ConversationID string    `json:"conversation_id"`
	Seq            uint64    `json:"seq"`
	Time           time.Time `json:"time"`
	EventID        string    `json:"event_id"`
}

// Rejection is one rejected command recorded in CROSSTALK_AUDIT: its sequence
// there, its time, and the record itself.
type Rejection struct {
	Seq  uint64    `json:"seq"`
	Time time.Time `json:"time"`
	events.CommandRejectedData
}

// PolicyChange is what one policy version did.
type PolicyChange struct {
	Policy PolicyRef `json:"policy"`
	// Published is its policy.published event.
	Published EventRef `json:"published"`
	// FirstDecided is the first event whose policyversion is this version:
	// when it took effect in practice. Null if nothing was decided under
	// it yet.
	FirstDecided *EventRef `json:"first_decided"`
	// Closed are the conversation.closed events with reason policy and
	// this policy_version, in stream order.
	Closed []Closing `json:"closed"`
	// Rejected are the commands rejected under this version, in
	// CROSSTALK_AUDIT order. RejectionsNote says why they are missing when
	// the stream could not be read.
	// The JSON names predate the Go names and stay, for readers of the
	// report's JSON.
	Rejected       []Rejection `json:"refused"`
	RejectionsNote string      `json:"refusals_note,omitempty"`
}

// Policy walks the history for what policy version did: when it was
// published and took effect, and which conversations it closed; and, when
// rejections is not nil, the commands refused under it. A version that was
// never published is an error.
func Policy(ctx context.Context, log audit.Log, rejections Rejections, version uint64) (PolicyChange, error) {
	rep := PolicyChange{Closed: []Closing{}, Rejected: []Rejection{}}
	found := false
	err := walkAll(ctx, log, func(m events.Message) error {
		e, err := events.Decode(m.Data)
		if err != nil {
			return nil // Verify reports it; it decided nothing
		}
		found = rep.note(m, e, version) || found
		return nil
	})
	if err != nil {
		return PolicyChange{}, fmt.Errorf("policy v%d: %w", version, err)
	}
	if !found {
		return PolicyChange{}, fmt.Errorf("policy version %d was never published; 'crosstalk policy status' lists the published ones", version)
	}
	if rejections == nil {
		rep.RejectionsNote = "no stream " + events.AuditStreamName + ": refused commands were not recorded"
		return rep, nil
	}
	rep.Rejected, err = rejectedUnder(ctx, rejections, version)
	return rep, err
}

// note records what event e, at m, says about version, and reports whether
// it is the version's publication.
func (rep *PolicyChange) note(m events.Message, e events.Event, version uint64) bool {
	ref := EventRef{Seq: m.Seq, Time: e.Time, Subject: e.Subject, Type: e.Type, EventID: e.ID}
	if e.PolicyVersion == version && rep.FirstDecided == nil {
		rep.FirstDecided = &ref
	}
	switch e.Type {
	case events.PolicyPublished:
		var d events.PolicyPublishedData
		if e.DecodeData(&d) == nil && d.Version == version {
			rep.Policy = PolicyRef{Version: d.Version, Name: d.Name, EffectiveAt: d.EffectiveAt.UTC()}
			rep.Published = ref
			return true
		}
	case events.ConversationClosed:
		var d events.ConversationClosedData
		if e.DecodeData(&d) == nil && d.Reason == events.ClosedByPolicy && d.PolicyVersion == version {
			rep.Closed = append(rep.Closed, Closing{ConversationID: e.Subject, Seq: m.Seq, Time: e.Time, EventID: e.ID})
		}
	}
	return false
}

// rejectedUnder reads every rejection record decided under version.
func rejectedUnder(ctx context.Context, rejections Rejections, version uint64) ([]Rejection, error) {
	out := []Rejection{}
	err := rejections.Read(ctx, "", func(m events.Message) error {
		e, err := events.Decode(m.Data)
		if err != nil || e.Type != events.CommandRejected {
			return nil
		}
		var d events.CommandRejectedData
		if e.DecodeData(&d) != nil || d.PolicyVersion != version {
			return nil
		}
		out = append(out, Rejection{Seq: m.Seq, Time: e.Time, CommandRejectedData: d})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", events.AuditStreamName, err)
	}
	return out, nil
}

// WriteText writes the report for people.
func (rep PolicyChange) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("policy %s\n", rep.Policy)
	ew.printf("published: seq %d at %s (event %s)\n", rep.Published.Seq, formatTime(rep.Published.Time), rep.Published.EventID)
	if f := rep.FirstDecided; f != nil {
		ew.printf("took effect: effective_at %s; first event decided under it: seq %d at %s, %s on %s\n",
			formatTime(rep.Policy.EffectiveAt), f.Seq, formatTime(f.Time), ShortType(f.Type), f.Subject)
	} else {
		ew.printf("took effect: effective_at %s; no event was decided under it yet\n", formatTime(rep.Policy.EffectiveAt))
	}
	ew.printf("\nconversations it closed: %d\n", len(rep.Closed))
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	if len(rep.Closed) > 0 {
		fmt.Fprintln(tw, "  CONVERSATION\tSEQ\tTIME")
	}
	for _, c := range rep.Closed {
		fmt.Fprintf(tw, "  %s\t%d\t%s\n", c.ConversationID, c.Seq, formatTime(c.Time))
	}
	_ = tw.Flush()
	rep.writeRefused(ew)
	return ew.err
}

func (rep PolicyChange) writeRefused(ew *errWriter) {
	if rep.RejectionsNote != "" {
		ew.printf("\ncommands refused under it: unknown (%s)\n", rep.RejectionsNote)
		return
	}
	// Their SEQ is CROSSTALK_AUDIT's, not the history's: the header says so.
	ew.printf("\ncommands refused under it: %d (AUDIT SEQ: their sequence in %s)\n", len(rep.Rejected), events.AuditStreamName)
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	if len(rep.Rejected) > 0 {
		fmt.Fprintln(tw, "  AUDIT SEQ\tTIME\tACTOR\tACTION\tCODE\tTARGET")
	}
	for _, r := range rep.Rejected {
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\n", r.Seq, formatTime(r.Time), r.Actor, r.Action, r.Code, target(r))
	}
	_ = tw.Flush()
}

// target is what a refused command was aimed at: its conversation, or the
// participants it wanted to start one with.
func target(r Rejection) string {
	if r.ConversationID != "" {
		return r.ConversationID
	}
	return "with " + joinAccounts(r.Participants)
}

// Write lets the tabwriter write through an errWriter.
func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
