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
}

// Progress is the closer's progress with one policy version.
type Progress struct {
	// Affected is how many conversations the version closes.
	Affected int
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
	appliedDesc    = desc("closer_applied", "1 once the closer has closed every conversation a policy version affects, else 0.", "policy_version")
)

// Describe sends nothing: the collector is unchecked, because which
// metrics it yields depends on its sources.
func (c *stateCollector) Describe(chan<- *prometheus.Desc) {}

// Collect reads every source once.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	if c.src.Lag != nil {
		ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
		events, seconds, err := c.src.Lag(ctx)
		cancel()
		if err == nil {
			ch <- prometheus.MustNewConstMetric(lagEventsDesc, prometheus.GaugeValue, float64(events))
			ch <- prometheus.MustNewConstMetric(lagSecondsDesc, prometheus.GaugeValue, seconds)
		}
	}
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
		}
	}
	if c.src.Pebble != nil {
		if m, err := c.src.Pebble(); err == nil {
			collectPebble(ch, m)
		}
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
