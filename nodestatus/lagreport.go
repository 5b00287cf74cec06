package nodestatus

import (
	"context"
	"log/slog"
	"time"
)

// RunLagReport checks the lag of the read model every CheckInterval until
// ctx is done; reportLag spaces the warnings themselves. Run it only for a
// service that keeps a read model.
func (r *Reporter) RunLagReport(ctx context.Context) error {
	t := time.NewTicker(r.cfg.CheckInterval)
	defer t.Stop()
	for {
		r.reportLag(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// reportLag logs a warning, at most every LagReportInterval, while the read
// model is more than LagWarn events behind the log, or has stayed at one
// checkpoint for StallWarn while the log holds more.
func (r *Reporter) reportLag(ctx context.Context) {
	last, err := r.src.LastSeq(ctx)
	if err != nil {
		return
	}
	cp, now := r.src.Views().Checkpoint(), time.Now()
	if cp != r.lagSeen.checkpoint || r.lagSeen.since.IsZero() {
		r.lagSeen.checkpoint, r.lagSeen.since = cp, now
	}
	if last <= cp || now.Sub(r.lagReported) < r.cfg.LagReportInterval {
		return
	}
	stalled := now.Sub(r.lagSeen.since)
	msg := "read model behind the log"
	switch {
	case stalled >= r.cfg.StallWarn:
		msg = "read model not following the log: its checkpoint has not moved for " + stalled.Round(time.Second).String()
	case last-cp <= uint64(r.cfg.LagWarn):
		return
	}
	r.lagReported = now
	r.cfg.Logger.Warn(msg, slog.Uint64("lag", last-cp), slog.Uint64("stream_last_seq", last),
		slog.Uint64("views_checkpoint", cp))
}
