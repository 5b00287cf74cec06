package projector

import (
	"log/slog"

	"github.com/crosstalk-dev/crosstalk/events"
)

// The cost of one event in the feeds is bounded (docs/reliability.md,
// "Fan-out"): a conversation event notifies its participants, at most
// api.MaxParticipants; a presence.changed notifies at most
// Options.PresenceFanout accounts, and none when a later presence.changed
// of the same account is in the same run (coalescePresence); and a batch
// holds at most Options.RunNotes notes (plus one event's) before it
// commits and publishes them, so the notes waiting in memory are bounded
// too.

// coalescePresence notes, for each account, its last presence.changed in
// msgs after seq from: an earlier one of the run is superseded before any
// client could read it, so it makes no feed notes (a client that loads
// presence sees the last status either way). Only the envelopes of an
// account with more than one event in the run are decoded: the others
// cannot be superseded, and a run of many accounts' events (a catch-up)
// pays no second decode.
func (f *feedTx) coalescePresence(from uint64, msgs []events.Message) {
	if f == nil {
		return
	}
	clear(f.presence)
	var seen map[events.Account]int // an account's events in the run
	for _, m := range msgs {
		if a, ok := f.accountEvent(from, m); ok {
			if seen == nil {
				seen = map[events.Account]int{}
			}
			seen[a]++
		}
	}
	for _, m := range msgs {
		a, ok := f.accountEvent(from, m)
		if !ok || seen[a] < 2 {
			continue
		}
		if e, err := events.Decode(m.Data); err == nil && e.Type == events.PresenceChanged {
			f.presence[a] = m.Seq
		}
	}
}

// accountEvent returns the account of m, an event after seq from on an
// account subject that the feeds have not published yet.
func (f *feedTx) accountEvent(from uint64, m events.Message) (events.Account, bool) {
	if m.Seq <= from || m.Seq <= f.after {
		return "", false
	}
	kind, key := events.ClassifySubject(m.Subject)
	return events.Account(key), kind == events.SubjectAccount
}

// superseded reports whether a's presence.changed at seq has a later one
// in the run, and counts it.
func (f *feedTx) superseded(a events.Account, seq uint64) bool {
	if last, ok := f.presence[a]; ok && last > seq {
		f.coalesced++
		return true
	}
	return false
}

// full reports whether the run's notes reached Options.RunNotes: fold
// then commits what it applied and goes on in a new batch.
func (f *feedTx) full() bool { return f != nil && len(f.notes) >= f.budget }

// dropUnused forgets the records prefetch loaded for events a run cut
// short leaves to the next batch: flush writes back every record it holds.
func (t *tx) dropUnused() {
	for id, c := range t.convs {
		if !c.used {
			delete(t.convs, id)
		}
	}
}

// partners returns a and the accounts it shares a conversation with, each
// once, at most limit of them: the participants of the conversations this
// run holds (one it started in the run is in no inbox yet), then of its
// inbox as committed, most recent activity first. truncated says some
// were left out.
func (t *tx) partners(a events.Account, limit int) (out []events.Account, truncated bool, err error) {
	seen := map[events.Account]bool{a: true}
	out = []events.Account{a}
	addAll := func(ps []events.Account) bool {
		for _, p := range ps {
			if len(out) >= limit {
				return false
			}
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
		return true
	}
	for _, c := range t.convs {
		if c.exists && c.rec.isParticipant(a) && !addAll(c.rec.Participants) {
			return out, true, nil
		}
	}
	err = scan(t.db, inboxPrefix(a), nil, func(k, v []byte) (bool, error) {
		var it struct {
			Participants []events.Account `json:"participants"`
		}
		if err := unmarshal(k, v, &it); err != nil {
			return false, err
		}
		truncated = !addAll(it.Participants)
		return !truncated, nil
	})
	return out, truncated, err
}

// logShed says, once per batch, what the feeds left out of it.
func (f *feedTx) logShed(log *slog.Logger) {
	if f == nil {
		return
	}
	if f.coalesced > 0 {
		log.Debug("projector coalesces presence notes", slog.Int("superseded", f.coalesced))
	}
	if f.capped > 0 {
		log.Warn("projector sheds presence feed notes beyond the fan-out limit",
			slog.Int("events", f.capped), slog.Int("limit", f.fanout))
	}
}
