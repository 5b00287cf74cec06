package metrics

import (
	"strconv"

	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	pebbleDiskDesc       = desc("pebble_disk_usage_bytes", "Bytes the read model's Pebble store takes on disk.")
	pebbleReadAmpDesc    = desc("pebble_read_amplification", "Pebble's read amplification: sublevels of L0 plus non-empty lower levels.")
	pebbleCompactDesc    = desc("pebble_compactions_total", "Pebble compactions completed.")
	pebbleDebtDesc       = desc("pebble_compaction_debt_bytes", "Bytes Pebble estimates it must compact to reach a stable shape.")
	pebbleCompactingDesc = desc("pebble_compactions_in_progress", "Pebble compactions running now.")
	pebbleFlushDesc      = desc("pebble_flushes_total", "Pebble memtable flushes completed.")
	pebbleMemtableDesc   = desc("pebble_memtable_size_bytes", "Bytes held by Pebble's memtables.")
	pebbleCacheSizeDesc  = desc("pebble_block_cache_size_bytes", "Bytes in use in Pebble's block cache.")
	pebbleCacheHitsDesc  = desc("pebble_block_cache_hits_total", "Pebble block cache hits.")
	pebbleCacheMissDesc  = desc("pebble_block_cache_misses_total", "Pebble block cache misses.")
	pebbleTablesDesc     = desc("pebble_level_tables", "Sstables in each Pebble level.", "level")
	pebbleLevelSizeDesc  = desc("pebble_level_size_bytes", "Bytes of the sstables in each Pebble level.", "level")
)

// collectPebble turns pebble.DB.Metrics into Prometheus metrics.
func collectPebble(ch chan<- prometheus.Metric, m *pebble.Metrics) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	count := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(pebbleDiskDesc, float64(m.DiskSpaceUsage()))
	gauge(pebbleReadAmpDesc, float64(m.ReadAmp()))
	count(pebbleCompactDesc, float64(m.Compact.Count))
	gauge(pebbleDebtDesc, float64(m.Compact.EstimatedDebt))
	gauge(pebbleCompactingDesc, float64(m.Compact.NumInProgress))
	count(pebbleFlushDesc, float64(m.Flush.Count))
	gauge(pebbleMemtableDesc, float64(m.MemTable.Size))
	gauge(pebbleCacheSizeDesc, float64(m.BlockCache.Size))
	count(pebbleCacheHitsDesc, float64(m.BlockCache.Hits))
	count(pebbleCacheMissDesc, float64(m.BlockCache.Misses))
	for i, l := range m.Levels {
		level := strconv.Itoa(i)
		gauge(pebbleTablesDesc, float64(l.TablesCount), level)
		gauge(pebbleLevelSizeDesc, float64(l.TablesSize), level)
	}
}
