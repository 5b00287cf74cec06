package policybook

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/closer"
	"github.com/crosstalk-dev/crosstalk/codec"
	"github.com/crosstalk-dev/crosstalk/events"
)

// Rows is the read model as the report reads it: how many conversations
// each version closed (projector.Store has it).
type Rows interface {
	PolicyClosed(version uint64) (int, error)
}

// Progress is the closer as the report reads it: its progress with each
// version (closer.Closer has it).
type Progress interface {
	Status(version uint64) closer.Progress
}

// Settled reports whether a policy report leaves nothing to wait for: the
// version in force, if any, is applied and no version is scheduled. It
// relies on the report marking superseded versions applied, so every
// version must be effective and applied.
func Settled(rep api.PolicyReport) bool {
	for _, v := range rep.Versions {
		if !v.Effective || !v.Applied {
			return false
		}
	}
	return true
}

// CheckQuery refuses a policy query the report cannot answer: links asked
// for without a version, or a cursor no report gave. The limit is the
// caller's to check, as for every query.
func CheckQuery(q api.PolicyQuery) error {
	if q.Links && q.Version == 0 {
		return codec.BadRequest("links are reported one version at a time: give version with links")
	}
	_, err := cursor(q.Cursor)
	return err
}

// cursor reads a cursor of a policy report: the last version of the page
// before, or the number of links reported so far.
func cursor(c api.Cursor) (uint64, error) {
	if c == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(c, 10, 64)
	if err != nil {
		return 0, codec.BadRequest("cursor %s is not one a policy report gave", events.Quote(c))
	}
	return n, nil
}

// Report is crosstalk.query.policy's report of every version, without
// links, on one page, at now. It combines the published versions (from the
// command side, so a just-published policy shows at once) with the read
// model's closed counts and the closer's progress. A version superseded by
// a later effective one has nothing left to do and reports applied.
func (b *Book) Report(now time.Time, rows Rows, progress Progress) (api.PolicyReport, error) {
	r := b.reporter(now, rows, progress)
	rep := api.PolicyReport{Current: r.current}
	for _, p := range b.Versions() {
		ps, err := r.status(p)
		if err != nil {
			return api.PolicyReport{}, err
		}
		rep.Versions = append(rep.Versions, ps)
	}
	return rep, nil
}

// Page answers one policy query (checked by CheckQuery) at now: a page of
// versions, or one version with a page of its links. The report is paged,
// and carries links only for the one version asked for, so that its reply
// stays small whatever was published.
func (b *Book) Page(q api.PolicyQuery, now time.Time, rows Rows, progress Progress) (api.PolicyReport, error) {
	limit := q.Limit
	if limit == 0 {
		limit = api.MaxPageSize
	}
	versions := b.Versions()
	r := b.reporter(now, rows, progress)
	rep := api.PolicyReport{Current: r.current}
	after, _ := cursor(q.Cursor) // checked already
	if q.Version != 0 {
		return r.versionPage(versions, rep, q, int(min(after, math.MaxInt32)), limit)
	}
	start := sort.Search(len(versions), func(i int) bool { return versions[i].Version > after })
	end := min(start+limit, len(versions))
	for _, p := range versions[start:end] {
		ps, err := r.status(p)
		if err != nil {
			return api.PolicyReport{}, err
		}
		rep.Versions = append(rep.Versions, ps)
	}
	if end < len(versions) {
		rep.NextCursor = strconv.FormatUint(versions[end-1].Version, 10)
	}
	return rep, nil
}

// reporter is what one report is made of: its time, the version in force
// then, the read model's counts and the closer's progress.
type reporter struct {
	now      time.Time
	current  uint64
	rows     Rows
	progress Progress
}

func (b *Book) reporter(now time.Time, rows Rows, progress Progress) reporter {
	return reporter{now: now, current: b.At(now).VersionOf(), rows: rows, progress: progress}
}

// versionPage reports version q.Version of versions alone, with limit of
// its links from the offset from on when q.Links.
func (r reporter) versionPage(versions []aggregate.Policy, rep api.PolicyReport, q api.PolicyQuery, from, limit int) (api.PolicyReport, error) {
	ps := aggregate.Policies{Versions: versions}
	p, ok := ps.Get(q.Version)
	if !ok {
		return api.PolicyReport{}, codec.BadRequest("policy version %d is not published; the report without version lists those that are", q.Version)
	}
	st, err := r.status(p)
	if err != nil {
		return api.PolicyReport{}, err
	}
	if q.Links {
		from = min(from, len(p.Links))
		end := min(from+limit, len(p.Links))
		st.Links = links(p.Links[from:end])
		if end < len(p.Links) {
			rep.NextCursor = strconv.Itoa(end)
		}
	}
	rep.Versions = []api.PolicyStatus{st}
	return rep, nil
}

// status is version p's row of the report, without links.
func (r reporter) status(p aggregate.Policy) (api.PolicyStatus, error) {
	closed, err := r.rows.PolicyClosed(p.Version)
	if err != nil {
		return api.PolicyStatus{}, err
	}
	st := r.progress.Status(p.Version)
	ps := api.PolicyStatus{
		Version: p.Version, Name: p.Name, EffectiveAt: p.EffectiveAt, LinkCount: len(p.Links),
		Effective: !p.EffectiveAt.After(r.now), InForce: p.Version == r.current,
		Closed: closed, Affected: st.Affected, Applied: applied(p, r.now, r.current, st.Applied),
	}
	if ps.Closed > ps.Affected {
		ps.Affected = ps.Closed
	}
	return ps, nil
}

// Superseded marks applied, in the closer's progress all (closer.Closer's
// Versions), each version a later effective one superseded at now, as the
// report does: the closer then stops with it, and its second pass never
// runs, so an alert on "not applied" would fire forever.
func (b *Book) Superseded(all map[uint64]closer.Progress, now time.Time) {
	current := b.At(now).VersionOf()
	for _, p := range b.Versions() {
		if pr, ok := all[p.Version]; ok {
			pr.Applied = applied(p, now, current, pr.Applied)
			all[p.Version] = pr
		}
	}
}

// applied says whether version p has nothing left to close at now: the
// closer applied it, or a later effective version superseded it (the
// closer then stops with p, and its second pass never runs). current is
// the version in force at now.
func applied(p aggregate.Policy, now time.Time, current uint64, closerApplied bool) bool {
	superseded := !p.EffectiveAt.After(now) && p.Version != current
	return closerApplied || superseded
}

// links is links as the policy report shows them: the stored links
// themselves (events.LinkData is api.PolicyLink), copied so that the reply
// shares nothing with the policy kept in memory.
func links(l []events.LinkData) []api.PolicyLink { return slices.Clone(l) }
