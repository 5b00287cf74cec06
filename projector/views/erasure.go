package views

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/seal"
)

// The views never hold plaintext (docs/erasure.md): a message's text, an
// edit and a reaction are stored as the event carries them, sealed, and
// opened when a query answers. Pebble recycles WAL files and keeps old
// SSTs until a compaction, so plaintext written there could outlive an
// erasure on disk; a sealed value whose key is destroyed is harmless
// wherever it lingers. Text written in clear before sealing existed is
// stored, and shown, as it is.

// Opener opens a sealed value of account's scope in a conversation with
// the associated data it was sealed with (seal.AD). Its error wraps
// seal.ErrErased (or the keyring's own) when the key no longer opens it.
// A nil Opener means no keys: a query shows what is stored.
type Opener interface {
	Open(ctx context.Context, account, conversationID string, ad []byte, sealed string) (string, error)
}

// AccountErasure is what the views keep of an account.erased event in the
// account's record: every item the account wrote before Seq shows erased.
type AccountErasure struct {
	Seq uint64    `json:"seq"`
	At  time.Time `json:"at"`
	By  string    `json:"by"`
}

// ContentExpiry is what the views keep of the latest content.expired event
// of a conversation, in its record: every sealed item whose message index
// is at most Through shows erased.
type ContentExpiry struct {
	Through       uint32    `json:"through"`
	Before        time.Time `json:"before"`
	At            time.Time `json:"at"`
	PolicyVersion uint64    `json:"policy_version"`
}

// Erasure is the api marker of an expiry.
func (x *ContentExpiry) Erasure() *api.Erasure {
	return &api.Erasure{At: x.At, Reason: api.ErasedRetention, PolicyVersion: x.PolicyVersion}
}

// Erasure is the api marker of an account's erasure.
func (x *AccountErasure) Erasure() *api.Erasure {
	return &api.Erasure{At: x.At, By: x.By, Reason: api.ErasedAccount}
}

// Content is a content value as the views store it: the text in clear when
// the event carried no sealed value, else the sealed value with what opens
// it (the event's id and type, for the associated data) and the event's
// sequence (for an account's erasure), separated by spaces, which neither
// a sealed value nor an id holds.
func Content(clear, sealed string, e events.Event, seq uint64) string {
	if sealed == "" {
		return clear
	}
	return sealed + " " + e.ID + " " + string(e.Type) + " " + strconv.FormatUint(seq, 10)
}

// sealedContent is a stored Content taken apart.
type sealedContent struct {
	sealed  string
	leaf    uint32
	eventID string
	typ     events.Type
	seq     uint64
}

// parseContent takes a stored value apart; ok is false for text in clear
// (which may even look like a sealed value: only a whole Content counts).
func parseContent(v string) (c sealedContent, ok bool) {
	if !seal.IsSealed(v) {
		return c, false
	}
	parts := strings.Split(v, " ")
	if len(parts) != 4 {
		return c, false
	}
	s, err := seal.Parse(parts[0])
	seq, serr := strconv.ParseUint(parts[3], 10, 64)
	if err != nil || serr != nil {
		return c, false
	}
	return sealedContent{sealed: parts[0], leaf: s.Leaf, eventID: parts[1], typ: events.Type(parts[2]), seq: seq}, true
}

// IsSealedContent reports whether a stored value is sealed.
func IsSealedContent(v string) bool { _, ok := parseContent(v); return ok }

// ContentLeaf is the message index a stored value was sealed under, and
// false for text in clear.
func ContentLeaf(v string) (uint32, bool) { c, ok := parseContent(v); return c.leaf, ok }

// opening opens the content of one answer: one conversation, the
// erasures the views know of, the opener (nil: show what is stored).
type opening struct {
	ctx    context.Context
	o      Opener
	conv   string
	expiry *ContentExpiry
	erased func(events.Account) (*AccountErasure, error)
}

// open returns the text of stored value v written by account, or the
// erasure that took it. seq is the message's for a text in clear.
func (p *opening) open(account events.Account, v string, seq uint64) (string, *api.Erasure, error) {
	c, sealed := parseContent(v)
	if sealed {
		seq = c.seq
	}
	x, err := p.erased(account)
	if err != nil {
		return "", nil, err
	}
	if x != nil && seq < x.Seq {
		return "", x.Erasure(), nil
	}
	if !sealed {
		return v, nil, nil
	}
	if p.expiry != nil && c.leaf <= p.expiry.Through {
		return "", p.expiry.Erasure(), nil
	}
	if p.o == nil {
		return c.sealed, nil, nil
	}
	ad := seal.AD(events.ConversationSubject(p.conv), string(c.typ), c.eventID, string(account))
	text, err := p.o.Open(p.ctx, string(account), p.conv, ad, c.sealed)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return "", nil, err
		}
		return "", &api.Erasure{Reason: api.ErasedKey}, nil
	}
	return text, nil, nil
}

// message opens m, a stored message sent at seq, in place: its text, and
// its reactions (an erased one is left out).
func (p *opening) message(m *api.MessageView, seq uint64) error {
	if m.Erased == nil {
		text, x, err := p.open(events.Account(m.Sender), m.Text, seq)
		if err != nil {
			return err
		}
		m.Text, m.Erased = text, x
	}
	for a, v := range m.Reactions {
		r, x, err := p.open(events.Account(a), v, seq)
		if err != nil {
			return err
		}
		if x != nil {
			delete(m.Reactions, a)
			continue
		}
		m.Reactions[a] = r
	}
	return nil
}

// accountErasures reads accounts' erasures from r, each once per answer.
func accountErasures(r Reader) func(events.Account) (*AccountErasure, error) {
	seen := map[events.Account]*AccountErasure{}
	return func(a events.Account) (*AccountErasure, error) {
		if x, ok := seen[a]; ok {
			return x, nil
		}
		var rec AccountRecord
		if _, err := GetJSON(r, AcctKey(a), &rec); err != nil {
			return nil, err
		}
		seen[a] = rec.Erased
		return rec.Erased, nil
	}
}

// OpenContent opens stored value v (a Content) written by account in
// conversation conv with o (nil: the sealed value as it is), or returns
// the erasure that took it when its key does not open it.
func OpenContent(ctx context.Context, o Opener, conv string, account events.Account, v string) (string, *api.Erasure, error) {
	p := &opening{ctx: ctx, o: o, conv: conv, erased: noErasure}
	return p.open(account, v, 0)
}
