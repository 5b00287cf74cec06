package history

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/keyring"
	"github.com/crosstalk-dev/crosstalk/seal"
)

// erasures is what the log says was erased, gathered in two walks: the
// first finds the erasure events, the second the trees and leaves they
// erased, so that applying them again (Reerase) reaches exactly those
// keys and no tree made after an erasure.
type erasures struct {
	accounts map[string]time.Time              // account.erased: when
	unsent   map[[2]string]bool                // message.unsent: conversation, message id
	expired  map[string]uint32                 // content.expired: conversation → through
	trees    map[keyring.Scope]map[string]bool // an erased account's trees, by scope
	leaves   []sealedLeaf                      // unsent messages' leaves
	senders  map[string]map[string]bool        // expired conversations' senders
}

// sealedLeaf is one unsent message's leaf in the tree that sealed it.
type sealedLeaf struct {
	scope keyring.Scope
	tree  string
	leaf  uint32
}

// Reapplied counts what Reerase did.
type Reapplied struct {
	Trees, Leaves, Expiries int
}

// Reerase applies every erasure the log of t records (account.erased,
// message.unsent, content.expired) to the keys stream t reaches, with the
// master key in keyFile: after a restore of CROSSTALK_KEYS from a backup
// taken before some erasures, what they erased is erased again.
func Reerase(ctx context.Context, t Target, keyFile string, out io.Writer) (Reapplied, error) {
	h, err := Open(ctx, t, false)
	if err != nil {
		return Reapplied{}, err
	}
	defer h.Close()
	master, err := keyring.ReadMaster(keyFile)
	if err != nil {
		return Reapplied{}, err
	}
	js, err := jetstream.New(h.Conn())
	if err != nil {
		return Reapplied{}, err
	}
	ring, err := keyring.Open(ctx, js, master, keyring.Options{})
	if err != nil {
		return Reapplied{}, err
	}
	defer ring.Close()
	e := &erasures{accounts: map[string]time.Time{}, unsent: map[[2]string]bool{}, expired: map[string]uint32{},
		trees: map[keyring.Scope]map[string]bool{}, senders: map[string]map[string]bool{}}
	if err := audit.WalkAll(ctx, h.Log(), e.each(e.findErasures)); err != nil {
		return Reapplied{}, err
	}
	if err := audit.WalkAll(ctx, h.Log(), e.each(e.findKeys)); err != nil {
		return Reapplied{}, err
	}
	r, err := e.apply(ctx, ring)
	if err == nil {
		fmt.Fprintf(out, "re-erased: %d trees of erased accounts, %d leaves of unsent messages, %d conversations' expired content\n",
			r.Trees, r.Leaves, r.Expiries)
	}
	return r, err
}

// each decodes every message of a walk and hands the events to fn with
// their payloads; a message that does not decode is no erasure and is
// skipped.
func (e *erasures) each(fn func(events.Event, events.Payload)) func([]events.Message) error {
	return func(ms []events.Message) error {
		for _, m := range ms {
			ev, err := events.Decode(m.Data)
			info, ok := events.Lookup(ev.Type)
			if err != nil || !ok {
				continue
			}
			if p := info.New(); ev.DecodeData(p) == nil {
				fn(ev, p)
			}
		}
		return nil
	}
}

// findErasures notes the erasure events.
func (e *erasures) findErasures(ev events.Event, p events.Payload) {
	switch d := p.(type) {
	case *events.AccountErasedData:
		e.accounts[string(d.Account)] = ev.Time
	case *events.MessageUnsentData:
		e.unsent[[2]string{ev.Subject, d.MessageID}] = true
	case *events.ContentExpiredData:
		e.expired[ev.Subject] = max(e.expired[ev.Subject], d.Through)
	}
}

// findKeys notes the trees and leaves the erasures reached: each sealed
// value names its tree and its leaf.
func (e *erasures) findKeys(ev events.Event, p events.Payload) {
	var author events.Account
	var sealed string
	switch d := p.(type) {
	case *events.MessageSentData:
		author, sealed = d.Sender, d.Sealed
		if e.unsent[[2]string{ev.Subject, d.MessageID}] {
			e.noteLeaf(ev.Subject, d.Sender, d.Sealed)
		}
		if _, ok := e.expired[ev.Subject]; ok {
			addTo(e.senders, ev.Subject, string(d.Sender))
		}
	case *events.MessageEditedData:
		author, sealed = d.Editor, d.Sealed
	case *events.MessageReactedData:
		author, sealed = d.Account, d.Sealed
	}
	at, erased := e.accounts[string(author)]
	if s, err := seal.Parse(sealed); err == nil && erased && !ev.Time.After(at) {
		addTo(e.trees, keyring.Scope{Account: string(author), Conversation: ev.Subject}, s.TreeID)
	}
}

// noteLeaf notes an unsent message's leaf.
func (e *erasures) noteLeaf(conv string, sender events.Account, sealed string) {
	if s, err := seal.Parse(sealed); err == nil {
		e.leaves = append(e.leaves, sealedLeaf{scope: keyring.Scope{Account: string(sender), Conversation: conv}, tree: s.TreeID, leaf: s.Leaf})
	}
}

// apply erases again what e found.
func (e *erasures) apply(ctx context.Context, ring *keyring.Ring) (Reapplied, error) {
	var r Reapplied
	for scope, trees := range e.trees {
		for id := range trees {
			done, err := ring.EraseTree(ctx, scope, id)
			if err != nil {
				return r, err
			}
			if done {
				r.Trees++
			}
		}
	}
	for _, l := range e.leaves {
		if err := ring.PunctureTree(ctx, l.scope, l.tree, l.leaf, l.leaf); err != nil {
			return r, err
		}
		r.Leaves++
	}
	for conv, through := range e.expired {
		for sender := range e.senders[conv] {
			if err := ring.Puncture(ctx, keyring.Scope{Account: sender, Conversation: conv}, 0, through); err != nil {
				return r, err
			}
		}
		r.Expiries++
	}
	return r, nil
}

// addTo adds v to the set m[k].
func addTo[K comparable](m map[K]map[string]bool, k K, v string) {
	if m[k] == nil {
		m[k] = map[string]bool{}
	}
	m[k][v] = true
}
