package service

import (
	"context"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/crosstalk-dev/crosstalk/aggregate"
	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/identity"
)

// PolicySettled reports whether a policy report (see PolicyReport) leaves
// nothing to wait for: the version in force, if any, is applied and no
// version is scheduled. It relies on PolicyReport marking superseded
// versions applied, so every version must be effective and applied.
func PolicySettled(rep api.PolicyReport) bool {
	for _, v := range rep.Versions {
		if !v.Effective || !v.Applied {
			return false
		}
	}
	return true
}

type policyQuery struct{ api.PolicyQuery }

func (q *policyQuery) base() *api.QueryBase { return &q.QueryBase }

func (q *policyQuery) check() error {
	if err := checkLimit(q.Limit); err != nil {
		return err
	}
	if q.Links && q.Version == 0 {
		return badRequest("links are reported one version at a time: give version with links")
	}
	if _, err := policyCursor(q.Cursor); err != nil {
		return err
	}
	return nil
}

// policyCursor reads a cursor of a policy report: the last version of the
// page before, or the number of links reported so far.
func policyCursor(c api.Cursor) (uint64, error) {
	if c == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(c, 10, 64)
	if err != nil {
		return 0, badRequest("cursor %s is not one a policy report gave", events.Quote(c))
	}
	return n, nil
}

// queryPolicy answers any authenticated principal: policies are public.
// The report is paged, and carries links only for the one version asked
// for, so that its reply stays small whatever was published.
func (s *Service) queryPolicy(ctx context.Context, _ identity.Principal, body []byte) (any, error) {
	var q policyQuery
	return s.answer(ctx, body, &q, func() (any, error) { return s.policyPage(q.PolicyQuery) })
}

// PolicyReport is crosstalk.query.policy's report of every version, without
// links, on one page. It combines the published versions (from the command
// side, so a just-published policy shows at once) with the read model's
// closed counts and the closer's progress. A version superseded by a later
// effective one has nothing left to do and reports applied.
func (s *Service) PolicyReport() (api.PolicyReport, error) {
	now := s.opts.Clock.Now()
	versions := s.policies.Load().versions
	rep := api.PolicyReport{Current: s.policyAt(now).VersionOf()}
	for _, p := range versions {
		ps, err := s.policyStatus(p, now, rep.Current)
		if err != nil {
			return api.PolicyReport{}, err
		}
		rep.Versions = append(rep.Versions, ps)
	}
	return rep, nil
}

// policyPage answers one policy query: a page of versions, or one version
// with a page of its links.
func (s *Service) policyPage(q api.PolicyQuery) (api.PolicyReport, error) {
	limit := q.Limit
	if limit == 0 {
		limit = api.MaxPageSize
	}
	now := s.opts.Clock.Now()
	versions := s.policies.Load().versions
	rep := api.PolicyReport{Current: s.policyAt(now).VersionOf()}
	after, _ := policyCursor(q.Cursor) // checked already
	if q.Version != 0 {
		return s.policyVersionPage(rep, q, int(min(after, math.MaxInt32)), limit, now)
	}
	start := sort.Search(len(versions), func(i int) bool { return versions[i].Version > after })
	end := min(start+limit, len(versions))
	for _, p := range versions[start:end] {
		ps, err := s.policyStatus(p, now, rep.Current)
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

// policyVersionPage reports version q.Version alone, with limit of its
// links from the offset from on when q.Links.
func (s *Service) policyVersionPage(rep api.PolicyReport, q api.PolicyQuery, from, limit int, now time.Time) (api.PolicyReport, error) {
	ps := aggregate.Policies{Versions: s.policies.Load().versions}
	p, ok := ps.Get(q.Version)
	if !ok {
		return api.PolicyReport{}, badRequest("policy version %d is not published; the report without version lists those that are", q.Version)
	}
	st, err := s.policyStatus(p, now, rep.Current)
	if err != nil {
		return api.PolicyReport{}, err
	}
	if q.Links {
		from = min(from, len(p.Links))
		end := min(from+limit, len(p.Links))
		st.Links = policyLinks(p.Links[from:end])
		if end < len(p.Links) {
			rep.NextCursor = strconv.Itoa(end)
		}
	}
	rep.Versions = []api.PolicyStatus{st}
	return rep, nil
}

// policyStatus is version p's row of the report, without links.
func (s *Service) policyStatus(p aggregate.Policy, now time.Time, current uint64) (api.PolicyStatus, error) {
	closed, err := s.views().PolicyClosed(p.Version)
	if err != nil {
		return api.PolicyStatus{}, err
	}
	st := s.closer.Status(p.Version)
	ps := api.PolicyStatus{
		Version: p.Version, Name: p.Name, EffectiveAt: p.EffectiveAt, LinkCount: len(p.Links),
		Effective: !p.EffectiveAt.After(now), InForce: p.Version == current,
		Closed: closed, Affected: st.Affected, Applied: applied(p, now, current, st.Applied),
	}
	if ps.Closed > ps.Affected {
		ps.Affected = ps.Closed
	}
	return ps, nil
}

// applied says whether version p has nothing left to close at now: the
// closer applied it, or a later effective version superseded it (the
// closer then stops with p, and its second pass never runs). current is
// the version in force at now.
func applied(p aggregate.Policy, now time.Time, current uint64, closerApplied bool) bool {
	superseded := !p.EffectiveAt.After(now) && p.Version != current
	return closerApplied || superseded
}

// policyLinks is links as the policy report shows them: the stored links
// themselves (events.LinkData is api.PolicyLink), copied so that the reply
// shares nothing with the policy kept in memory.
func policyLinks(links []events.LinkData) []api.PolicyLink { return slices.Clone(links) }
