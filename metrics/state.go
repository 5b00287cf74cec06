package metrics

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// Sources are the figures read at scrape time. Every field may be nil:
// its metrics are then left out.
type Sources struct {
	// Lag is how far the read model is behind the log, in events and in
	// seconds (the age of the oldest event not applied).
	Lag func(ctx context.Context) (events uint64, seconds float64, err error)
	// CachedAggregates is how many conversations and accounts the command
	// side holds in memory.
	CachedAggregates func() (conversations, accounts int)
	// Closer is the closer's progress per policy version.
	Closer func() map[uint64]Progress
	// Pebble is the current read model's Pebble metrics.
	Pebble func() (*pebble.Metrics, error)
	// Rebuild is the latest online rebuild of the read model; ok is false
	// when none ran since start.
	Rebuild func() (r Rebuild, ok bool)
	// IntakePending is how many intake messages wait to be decided:
	// not yet delivered, or delivered and not yet acknowledged.
	IntakePending func(ctx context.Context) (uint64, error)
}

// Rebuild is the progress of an online rebuild of the read model.
type Rebuild struct {
	// Running is true until the rebuilt views took over or failed.
	Running bool
	// Applied and Target are the events applied and the stream sequence
	// the rebuilt views must reach before they take over.
	Applied, Target uint64
}

// Progress is the closer's progress with one policy version.
type Progress struct {
	// Affected is how many conversations the version closes.
	Affected int
	// Closed is how many of them the read model shows closed so far.
	Closed int
	// Applied says every one of them is closed.
	Applied bool
}

// scrapeTimeout bounds the questions a scrape asks the log.
const scrapeTimeout = 2 * time.Second

// stateCollector reads Sources at each scrape.
type stateCollector struct {
	src Sources
	// hits and lookups of the aggregate cache, for its hit ratio.
	hits, lookups atomic.Int64
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("crosstalk_"+name, help, labels, nil)
}

var (
	lagEventsDesc  = desc("projector_lag_events", "Events in the log the read model has not applied.")
	lagSecondsDesc = desc("projector_lag_seconds", "Age of the oldest event in the log the read model has not applied; 0 when caught up.")
	hitRatioDesc   = desc("aggregate_cache_hit_ratio", "Share of lookups in the command side's cache that found the aggregate loaded, since start.")
	cacheDesc      = desc("aggregate_cache_entries", "Aggregates held in the command side's cache, by kind.", "kind")
	affectedDesc   = desc("closer_affected_conversations", "Conversations a policy version closes, as of the closer's latest scan.", "policy_version")
	rebuildRunDesc = desc("views_rebuild_running", "1 while an online rebuild of the read model runs, else 0.")
	rebuildAppDesc = desc("views_rebuild_applied_events", "Events the latest online rebuild has applied.")
	rebuildTgtDesc = desc("views_rebuild_target_seq", "The stream sequence the latest online rebuild must reach before its views take over.")
	intakeDesc     = desc("intake_pending_messages", "Intake messages waiting to be decided: not yet delivered to the intake consumer, or delivered and not yet acknowledged.")
	appliedDesc    = desc("closer_applied", "1 once the closer has closed every conversation a policy version affects (or a later version superseded it), else 0.", "policy_version")
	closedDesc     = desc("closer_closed_conversations", "Conversations the read model shows closed by a policy version so far.", "policy_version")
	reachableDesc  = desc("stream_reachable", "1 if the last scrape could read the event log's state (the stream answered), else 0: while 0 the lag metrics are left out.")
)

// Describe sends nothing: the collector is unchecked, because which
// metrics it yields depends on its sources.
func (c *stateCollector) Describe(chan<- *prometheus.Desc) {}

// Collect reads every source once. The questions to the log share one
// scrapeTimeout, so that a scrape with the stream unreachable still
// answers in time.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	c.collectLag(ctx, ch)
	if c.src.CachedAggregates != nil {
		convs, accts := c.src.CachedAggregates()
		ch <- prometheus.MustNewConstMetric(cacheDesc, prometheus.GaugeValue, float64(convs), "conversation")
		ch <- prometheus.MustNewConstMetric(cacheDesc, prometheus.GaugeValue, float64(accts), "account")
	}
	if n := c.lookups.Load(); n > 0 {
		ch <- prometheus.MustNewConstMetric(hitRatioDesc, prometheus.GaugeValue, float64(c.hits.Load())/float64(n))
	}
	if c.src.Closer != nil {
		for v, p := range c.src.Closer() {
			version := strconv.FormatUint(v, 10)
			ch <- prometheus.MustNewConstMetric(affectedDesc, prometheus.GaugeValue, float64(p.Affected), version)
			ch <- prometheus.MustNewConstMetric(appliedDesc, prometheus.GaugeValue, boolValue(p.Applied), version)
			ch <- prometheus.MustNewConstMetric(closedDesc, prometheus.GaugeValue, float64(p.Closed), version)
		}
	}
	if c.src.Rebuild != nil {
		if r, ok := c.src.Rebuild(); ok {
			ch <- prometheus.MustNewConstMetric(rebuildRunDesc, prometheus.GaugeValue, boolValue(r.Running))
			ch <- prometheus.MustNewConstMetric(rebuildAppDesc, prometheus.GaugeValue, float64(r.Applied))
			ch <- prometheus.MustNewConstMetric(rebuildTgtDesc, prometheus.GaugeValue, float64(r.Target))
		}
	}
	c.collectIntake(ctx, ch)
	if c.src.Pebble != nil {
		if m, err := c.src.Pebble(); err == nil {
			collectPebble(ch, m)
		}
	}
}

// collectLag yields the projector's lag, and whether the log answered.
func (c *stateCollector) collectLag(ctx context.Context, ch chan<- prometheus.Metric) {
	if c.src.Lag == nil {
		return
	}
	events, seconds, err := c.src.Lag(ctx)
	ch <- prometheus.MustNewConstMetric(reachableDesc, prometheus.GaugeValue, boolValue(err == nil))
	if err == nil {
		ch <- prometheus.MustNewConstMetric(lagEventsDesc, prometheus.GaugeValue, float64(events))
		ch <- prometheus.MustNewConstMetric(lagSecondsDesc, prometheus.GaugeValue, seconds)
	}
}

func (c *stateCollector) collectIntake(ctx context.Context, ch chan<- prometheus.Metric) {
	if c.src.IntakePending == nil {
		return
	}
	if n, err := c.src.IntakePending(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(intakeDesc, prometheus.GaugeValue, float64(n))
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
