package projector

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/crosstalk-dev/crosstalk/projector/views"

	"github.com/cockroachdb/pebble/v2"
	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
)

// Feeds receives the live notifications of the store (Options.Feeds,
// docs/feeds.md): package feed publishes them on core NATS.
type Feeds interface {
	// Publish delivers notes, in stream order, after the run that made
	// them committed; a note is for its Viewer's feed only. It runs on
	// Apply's goroutine (and the policy scheduler's, never at once): it
	// must not keep notes, whose memory the store reuses, nor call back
	// into the Store. An error is logged, not retried: feeds are at most
	// once.
	Publish(notes []Note) error
}

// Note is one notification and the account whose feed it is for.
type Note struct {
	Viewer events.Account
	// Stream is the index of the log's stream Seq is a sequence of (0 for
	// a single stream; a partition or, for visibility.changed, the policy
	// stream in a log of several): with Seq and Viewer it names the note
	// (the durable feeds' Nats-Msg-Id, package feed).
	Stream int
	api.Notification
}

// feedState is the store's side of its feeds: where they go, from which
// sequence on, and each account's last notification number N. Guarded by
// applyMu: only Apply and PolicyTookEffect use it.
type feedState struct {
	feeds Feeds
	after uint64 // events at or below it are not published
	// n holds the committed counters read or written lately, as many as
	// Options.RecordCache: every account that ever had a notification
	// would otherwise stay in memory. A miss reads meta's feed key.
	n     *simplelru.LRU[events.Account, uint64]
	notes []Note                    // the buffer a run's notes are made in, reused
	moved map[events.Account]uint64 // the map a run's counters are moved in, reused
	// unknown is the map of a run's viewers whose counters add did not
	// find in n, reused (feedTx.resolve).
	unknown map[events.Account]uint64
	// presence is the map a run's last presence sequences are kept in,
	// reused (coalescePresence).
	presence map[events.Account]uint64
}

// feedTx is one run's notes and the counters it moved, published and
// merged into the feedState once the run committed.
type feedTx struct {
	st     *feedState
	stream int    // the run's stream (Note.Stream)
	after  uint64 // the run's stream's events at or below it are not published
	now    func() time.Time
	notes  []Note
	counts map[events.Account]uint64
	// unknown holds the viewers of counts whose last number before the
	// run is not known yet (add), then that number (resolve).
	unknown    map[events.Account]uint64
	policy     *aggregate.Policy
	policyRead bool
	// presence, fanout and budget bound the run's notes (fanout.go);
	// coalesced and capped count what they left out, for the log.
	presence          map[events.Account]uint64
	fanout, budget    int
	coalesced, capped int
}

// newFeedTx begins a run's notes; nil when the store publishes no feeds.
func (s *Store) newFeedTx(stream int) *feedTx {
	if s.feed.feeds == nil {
		return nil
	}
	if s.feed.moved == nil {
		s.feed.moved = map[events.Account]uint64{}
	}
	clear(s.feed.moved)
	if s.feed.unknown == nil {
		s.feed.unknown = map[events.Account]uint64{}
	}
	clear(s.feed.unknown)
	if s.feed.presence == nil {
		s.feed.presence = map[events.Account]uint64{}
	}
	return &feedTx{st: &s.feed, stream: stream, after: s.feedsAfter(stream), now: s.opts.Now, notes: s.feed.notes[:0], counts: s.feed.moved, unknown: s.feed.unknown,
		presence: s.feed.presence, fanout: s.opts.PresenceFanout, budget: s.opts.RunNotes}
}

// add appends n to viewer's feed, numbered after viewer's last note. A
// viewer whose last number is not in the cache is numbered from 0 and
// marked unknown; write reads the numbers of all of them at once (resolve)
// and moves their notes up. Read one by one, each a Pebble point read that
// finds the key in an sstable, they were 7% of a policy closing's CPU:
// a closing notifies two accounts, mostly out of the cache's reach.
func (f *feedTx) add(viewer events.Account, n *api.Notification) {
	last, ok := f.counts[viewer]
	if !ok {
		if last, ok = f.st.n.Get(viewer); !ok {
			f.unknown[viewer] = 0
		}
	}
	f.counts[viewer] = last + 1
	f.notes = append(f.notes, Note{Viewer: viewer, Stream: f.stream, Notification: *n})
	f.notes[len(f.notes)-1].N = last + 1
}

// resolve reads the last numbers of the unknown viewers from db, in one
// ascending pass, and adds each to its viewer's notes and counter.
func (f *feedTx) resolve(db views.Reader) error {
	if len(f.unknown) == 0 {
		return nil
	}
	viewers := slices.Sorted(maps.Keys(f.unknown))
	keys := make([][]byte, len(viewers))
	for i, v := range viewers {
		keys[i] = views.FeedKey(v)
	}
	err := views.ReadUints(db, keys, func(i int, n uint64) { f.unknown[viewers[i]] = n })
	if err != nil {
		return fmt.Errorf("read feed counters: %w", err)
	}
	for i := range f.notes {
		if base, ok := f.unknown[f.notes[i].Viewer]; ok {
			f.notes[i].N += base
		}
	}
	for v, base := range f.unknown {
		f.counts[v] += base
	}
	clear(f.unknown)
	return nil
}

// write resolves the run's unknown counters (reading db) and puts the
// moved counters into the batch, in key order so that the batch is the
// same for the same run.
func (f *feedTx) write(db views.Reader, b *pebble.Batch) error {
	if err := f.resolve(db); err != nil {
		return err
	}
	for _, a := range slices.Sorted(maps.Keys(f.counts)) {
		if err := b.Set(views.FeedKey(a), views.EncodeUint(f.counts[a]), nil); err != nil {
			return err
		}
	}
	return nil
}

// publish hands a committed run's notes to the feeds and keeps its
// counters. A failure is logged: feeds are at most once, and a client
// sees the gap in N.
func (s *Store) publish(f *feedTx) {
	if f == nil {
		return
	}
	for a, n := range f.counts {
		s.feed.n.Add(a, n)
	}
	if len(f.notes) > 0 {
		s.openNotes(f.notes)
		if err := s.feed.feeds.Publish(f.notes); err != nil {
			s.log.Warn("projector: publish feeds", slog.Int("notes", len(f.notes)), slog.Any("err", err))
		}
	}
	f.logShed(s.log)
	clear(f.notes) // drop the references the notes hold before reuse
	s.feed.notes = f.notes[:0]
}

// TakeFeeds moves old's feeds to s, which replaces old (an online rebuild):
// s publishes the events after old's checkpoint, and knows which policy
// versions old announced. Call it once old has stopped applying. The
// notification numbers N start again at 1 in s (a rebuilt store does not
// count them), which a client sees as a gap and resyncs.
func (s *Store) TakeFeeds(old *Store) error {
	old.applyMu.Lock()
	defer old.applyMu.Unlock()
	if old.feed.feeds == nil {
		return nil
	}
	release, err := old.acquire()
	if err != nil {
		return err
	}
	announced, _, err := views.GetUint(old.db, views.FeedPolicyKey())
	release()
	if err != nil {
		return err
	}
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	if err := s.db.Set(views.FeedPolicyKey(), views.EncodeUint(announced), s.commitOpts()); err != nil {
		return fmt.Errorf("take feeds: %w", err)
	}
	s.feed = feedState{feeds: old.feed.feeds, after: max(old.Checkpoint(), s.feed.after), n: mustLRU[events.Account, uint64](s.opts.RecordCache)}
	if len(s.checkpoints) > 1 { // after is per stream
		s.opts.FeedsAfterStreams = maxEach(old.Checkpoints(), s.opts.FeedsAfterStreams)
	}
	old.feed.feeds = nil
	return nil
}
