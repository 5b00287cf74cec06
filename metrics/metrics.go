// Package metrics owns crosstalk's Prometheus registry: the counters and
// histograms the service, the projector and the closer report into as
// things happen (through hooks those packages define, so none of them
// imports Prometheus), and a collector that reads the figures that are
// cheaper to ask for at scrape time: the projector's lag, the aggregate
// cache, the closer's progress per policy version and Pebble's metrics.
//
// Names follow Prometheus conventions: the crosstalk_ prefix, base units
// (seconds, bytes), _total on counters; a promlint test holds them to it.
package metrics

import (
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/version"
)

// ok is the code label of a request answered without an error.
const ok = "ok"

// Registry holds every crosstalk metric. Its methods are the hooks: it
// implements service.Observer, and ObserveApplied is projector's OnApplied.
// The zero value is not usable; build it with New.
type Registry struct {
	reg *prometheus.Registry

	commands        *prometheus.CounterVec
	commandDuration *prometheus.HistogramVec
	queries         *prometheus.CounterVec
	queryDuration   *prometheus.HistogramVec
	refusals        *prometheus.CounterVec
	appendDuration  prometheus.Histogram
	conflicts       prometheus.Counter
	retries         prometheus.Counter
	cacheLookups    *prometheus.CounterVec
	poisoned        *prometheus.CounterVec
	applied         prometheus.Counter
	intake          *prometheus.CounterVec
	state           *stateCollector
}

// latencyBuckets span a local append (a few hundred microseconds) to a
// command that waited out its timeout (5s).
var latencyBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// New builds a registry with crosstalk's metrics, the Go runtime's and the
// process's, reading the scrape-time figures from src.
func New(src Sources) *Registry {
	r := &Registry{reg: prometheus.NewRegistry(), state: &stateCollector{src: src}}
	r.commands = counterVec("commands_total", "Commands (admin commands included) answered, by action and result code (ok or the contract's error code).", "action", "code")
	r.commandDuration = histogramVec("command_duration_seconds", "Time from a command's receipt to its reply, by action.", "action")
	r.queries = counterVec("queries_total", "Queries answered, by query and result code.", "query", "code")
	r.queryDuration = histogramVec("query_duration_seconds", "Time from a query's receipt to its reply, by query.", "query")
	r.refusals = counterVec("refusals_total", "Requests refused with a 4xx error code, by code.", "code")
	r.appendDuration = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "crosstalk_append_duration_seconds",
		Help: "Latency of one append to the event log, acknowledged or not.", Buckets: latencyBuckets})
	r.conflicts = counter("occ_conflicts_total", "Appends refused by optimistic concurrency (the aggregate moved on).")
	r.retries = counter("occ_retries_total", "Commands decided again after a conflict.")
	r.cacheLookups = counterVec("aggregate_cache_lookups_total", "Lookups of an aggregate in the command side's cache, by result (hit: no load from the log).", "result")
	r.poisoned = counterVec("poisoned_messages_total", "Stream messages skipped as poison, by side (views: the projector; commands: the command side).", "side")
	r.applied = counter("projector_events_applied_total", "Log messages the projector applied to the read model (poison included).")
	r.intake = counterVec("intake_commands_total", "Intake commands decided with a final outcome, by action and result code (ok or the contract's error code).", "action", "code")
	r.reg.MustRegister(r.commands, r.commandDuration, r.queries, r.queryDuration, r.refusals, r.appendDuration,
		r.conflicts, r.retries, r.cacheLookups, r.poisoned, r.applied, r.intake, r.state,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), buildInfo())
	for _, side := range []string{"views", "commands"} {
		r.poisoned.WithLabelValues(side) // present at zero, so an alert can rate() it
	}
	for _, res := range []string{"hit", "miss"} {
		r.cacheLookups.WithLabelValues(res)
	}
	return r
}

func counter(name, help string) prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{Name: "crosstalk_" + name, Help: help})
}

func counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "crosstalk_" + name, Help: help}, labels)
}

func histogramVec(name, help string, labels ...string) *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "crosstalk_" + name, Help: help,
		Buckets: latencyBuckets}, labels)
}

// Gatherer is the registry, for tests and promlint.
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }

// Handler serves the registry in the Prometheus text format.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{})
}

// Answered counts one answered request (service.Observer).
func (r *Registry) Answered(kind, name, code string, d time.Duration) {
	if kind == "query" {
		r.queries.WithLabelValues(name, code).Inc()
		r.queryDuration.WithLabelValues(name).Observe(d.Seconds())
	} else {
		r.commands.WithLabelValues(name, code).Inc()
		r.commandDuration.WithLabelValues(name).Observe(d.Seconds())
	}
	if code != ok && refused(code) {
		r.refusals.WithLabelValues(code).Inc()
	}
}

// Appended observes one append's latency (service.Observer).
func (r *Registry) Appended(d time.Duration) { r.appendDuration.Observe(d.Seconds()) }

// Conflicted counts one optimistic-concurrency conflict, and a retry when
// the command was decided again (service.Observer).
func (r *Registry) Conflicted(retried bool) {
	r.conflicts.Inc()
	if retried {
		r.retries.Inc()
	}
}

// CacheLookup counts one lookup in the aggregate cache (service.Observer).
func (r *Registry) CacheLookup(hit bool) {
	res := "miss"
	if hit {
		res = "hit"
		r.state.hits.Add(1)
	}
	r.state.lookups.Add(1)
	r.cacheLookups.WithLabelValues(res).Inc()
}

// CommandPoisoned counts one message the command side skipped
// (service.Observer).
func (r *Registry) CommandPoisoned() { r.poisoned.WithLabelValues("commands").Inc() }

// ObserveApplied counts one committed batch of the projector
// (projector.Options.OnApplied).
func (r *Registry) ObserveApplied(applied, poisoned int) {
	r.applied.Add(float64(applied))
	r.poisoned.WithLabelValues("views").Add(float64(poisoned))
}

// IntakeDecided counts one intake command given its final outcome
// (intake.Observer).
func (r *Registry) IntakeDecided(action, code string) {
	r.intake.WithLabelValues(action, code).Inc()
	if code != ok && refused(code) {
		r.refusals.WithLabelValues(code).Inc()
	}
}

// refused says whether code is a refusal, a 4xx: the service's own
// failures (5xx) are not the caller's doing.
func refused(code string) bool { return strings.HasPrefix(api.StatusOf(code), "4") }

// buildInfo is crosstalk_build_info: 1, labelled with this build's
// version, revision and Go version, so that a dashboard tells which build
// each node runs.
func buildInfo() prometheus.Collector {
	v := version.Read()
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "crosstalk_build_info",
		Help:        "Always 1; its labels name this build (version.Info).",
		ConstLabels: prometheus.Labels{"version": v.Version, "revision": v.Revision, "goversion": v.GoVersion}},
		func() float64 { return 1 })
}
