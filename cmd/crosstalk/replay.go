package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/projector"
)

// replayFlags are the flags of crosstalk replay.
type replayFlags struct {
	target    auditTarget // --data, --nats-url, --json
	fromJSONL string
	untilSeq  uint64
	untilTime string
	out       string
}

func newReplayCommand(stdout, stderr io.Writer) *cobra.Command {
	var f replayFlags
	cmd := &cobra.Command{
		Use:   "replay",
		Short: "Rebuild the views from the history into a fresh Pebble store and print their checksum",
		Long: `replay reads crosstalk's history from its first event, in stream order, and
folds it into a fresh Pebble store exactly as the live projector does, then
prints how many events it applied, the last sequence, how long it took, the
events per second, and the checksum of the views (sha256 over every key and
value of the store).

The views are a projection of the log: a replay of the same history always
gives the same checksum, whatever batches it used, and equals the checksum of
the live views at the same sequence. Compare it with a node's views to prove
them, or rebuild a node's views with --out and swap them in.

The history is read from one of:

  --data DIR         a stopped node's data directory (the default,
                     ./crosstalk-data), through an embedded nats-server of
                     replay's own; 'crosstalk serve' must not be running on DIR
  --nats-url URL     the stream of a running NATS server, up to its last
                     sequence when the replay starts
  --from-jsonl FILE  an export written by 'crosstalk audit export'

A 'nats backup stream' directory is a snapshot of JetStream's files, not a
list of messages: restore it into a NATS server ('nats backup restore stream
DIR' against a server started with 'nats-server -js -sd DIR2/jetstream'), then
replay with --nats-url, or stop that server and replay with --data DIR2.

--until-seq N stops after stream sequence N. --until-time T replays the
history as of T by the events' own clock: exactly the events whose CloudEvents
time is not after T (the broker's timestamps play no part), as 'audit
visibility --at' builds its views. T is an RFC 3339 time
(2023-12-14T00:00:00Z) or a date (2023-12-13), meaning the end of that day in
UTC.

The views are built in --out DIR (created if missing; it must be empty), or
in a temporary directory that is removed afterwards. Progress goes to stderr:
a bar with events/s and ETA on a terminal, otherwise a line about once a
second. The result goes to stdout (--json: as JSON).

Exit status: 0 when the views were rebuilt; non-zero when the history could
not be read, a line of --from-jsonl is not an export line, --until-seq is past
the end of the history, or --out is not empty.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runReplay(cmd.Context(), f, stdout, stderr)
		},
	}
	addTargetFlags(cmd, &f.target)
	fl := cmd.Flags()
	fl.StringVar(&f.fromJSONL, "from-jsonl", "", "replay an export written by 'crosstalk audit export' instead")
	fl.Uint64Var(&f.untilSeq, "until-seq", 0, "last stream sequence to replay (0: the end of the history)")
	fl.StringVar(&f.untilTime, "until-time", "", "replay the history as of this RFC 3339 time or date (the end of that day, UTC), by the events' own time")
	fl.StringVar(&f.out, "out", "", "build the views in this directory, which must be new or empty, and keep them "+
		"(default: a temporary directory, removed afterwards)")
	cmd.MarkFlagsMutuallyExclusive("data", "from-jsonl")
	cmd.MarkFlagsMutuallyExclusive("nats-url", "from-jsonl")
	return cmd
}

// replayReport is the result as --json prints it.
type replayReport struct {
	Events          uint64    `json:"events"`
	Skipped         uint64    `json:"skipped"`
	LastSeq         uint64    `json:"last_seq"`
	DurationSeconds float64   `json:"duration_seconds"`
	EventsPerSecond float64   `json:"events_per_second"`
	ViewsChecksum   string    `json:"views_checksum"`
	ViewsEntries    uint64    `json:"views_entries"`
	History         audit.Sum `json:"history"`
	Out             string    `json:"out,omitempty"`
}

func runReplay(ctx context.Context, f replayFlags, stdout, stderr io.Writer) error {
	opts, err := f.options()
	if err != nil {
		return err
	}
	logger := newLogger(stderr, slog.LevelWarn)
	src, closeSrc, err := openReplaySource(ctx, f, logger)
	if err != nil {
		return err
	}
	defer closeSrc()
	dir, keep, err := replayOut(f.out)
	if err != nil {
		return err
	}
	res, err := replayInto(ctx, src, dir, opts, logger, stderr)
	if err != nil || !keep {
		_ = os.RemoveAll(dir)
	}
	if err != nil {
		return err
	}
	rep := replayReport{
		Events: res.Events, Skipped: res.Skipped, LastSeq: res.LastSeq,
		DurationSeconds: res.Duration.Seconds(), EventsPerSecond: res.EventsPerSecond(),
		ViewsChecksum: res.Checksum, ViewsEntries: res.Entries, History: res.History,
	}
	if keep {
		rep.Out = dir
	}
	if f.target.JSON {
		return writeJSON(stdout, rep)
	}
	writeReplayReport(stdout, rep)
	return nil
}

// options turns the bounds into ReplayOptions.
func (f replayFlags) options() (audit.ReplayOptions, error) {
	opts := audit.ReplayOptions{UntilSeq: f.untilSeq}
	if f.untilTime != "" {
		t, err := audit.ParseInstant(f.untilTime)
		if err != nil {
			return opts, fmt.Errorf("--until-time: %w", err)
		}
		opts.UntilTime = t
	}
	return opts, nil
}

// replayInto opens a store in dir, replays src into it and closes it.
func replayInto(ctx context.Context, src audit.Source, dir string, opts audit.ReplayOptions, logger *slog.Logger, stderr io.Writer) (audit.ReplayResult, error) {
	dst, err := projector.Open(projector.Options{Dir: dir, Logger: logger})
	if err != nil {
		return audit.ReplayResult{}, err
	}
	progress := newReplayProgress(stderr)
	opts.Progress = progress.show
	res, err := audit.Replay(ctx, src, dst, opts)
	progress.finish(err == nil)
	if cerr := dst.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return res, err
}

func writeReplayReport(w io.Writer, r replayReport) {
	fmt.Fprintf(w, "events: %d\n", r.Events)
	if r.Skipped > 0 {
		fmt.Fprintf(w, "skipped (after --until-time): %d\n", r.Skipped)
	}
	fmt.Fprintf(w, "last seq: %d\n", r.LastSeq)
	fmt.Fprintf(w, "duration: %s\n", time.Duration(r.DurationSeconds*float64(time.Second)).Round(time.Millisecond))
	fmt.Fprintf(w, "events/s: %.0f\n", r.EventsPerSecond)
	fmt.Fprintf(w, "views checksum: %s\n", r.ViewsChecksum)
	fmt.Fprintf(w, "views entries: %d\n", r.ViewsEntries)
	fmt.Fprintf(w, "history sha256: %s\n", r.History.Hex)
	if r.Out != "" {
		fmt.Fprintf(w, "views: %s\n", r.Out)
	}
}

// openReplaySource opens the history f names; release closes it.
func openReplaySource(ctx context.Context, f replayFlags, logger *slog.Logger) (src audit.Source, release func(), err error) {
	if f.fromJSONL != "" {
		return openJSONL(f.fromJSONL)
	}
	if f.target.NatsURL == "" {
		if err := checkNotServing(f.target.DataDir); err != nil {
			return nil, nil, err
		}
	}
	h, err := openHistory(ctx, f.target, false, logger)
	if err != nil {
		return nil, nil, err
	}
	ls, err := audit.FromLog(ctx, h.log)
	if err != nil {
		h.close()
		return nil, nil, err
	}
	return ls, h.close, nil
}

// openJSONL opens an export and counts its lines, for progress.
func openJSONL(path string) (audit.Source, func(), error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("--from-jsonl: %w", err)
	}
	lines, err := countLines(file)
	if err == nil {
		_, err = file.Seek(0, io.SeekStart)
	}
	if err != nil {
		_ = file.Close()
		return nil, nil, fmt.Errorf("--from-jsonl: read %s: %w", path, err)
	}
	src := audit.ReadJSONL(file)
	src.SetTotal(lines)
	return src, func() { _ = file.Close() }, nil
}

// countLines counts the lines of r, a last one without "\n" included.
func countLines(r io.Reader) (uint64, error) {
	buf := make([]byte, 1<<20)
	var n uint64
	last := byte('\n')
	for {
		k, err := r.Read(buf)
		if k > 0 {
			n += uint64(bytes.Count(buf[:k], []byte{'\n'}))
			last = buf[k-1]
		}
		if errors.Is(err, io.EOF) {
			if last != '\n' {
				n++
			}
			return n, nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// replayOut returns the directory to build the views in: out, created if
// missing and refused unless empty, or a new temporary directory. keep is
// false for the temporary one, which the caller removes.
func replayOut(out string) (dir string, keep bool, err error) {
	if out == "" {
		dir, err = os.MkdirTemp("", "crosstalk-replay-")
		return dir, false, err
	}
	entries, err := os.ReadDir(out)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return out, true, os.MkdirAll(out, 0o755)
	case err != nil:
		return "", false, fmt.Errorf("--out %s: %w", out, err)
	case len(entries) > 0:
		return "", false, fmt.Errorf("--out %s is not empty: replay builds views only in a new or empty directory, "+
			"so that it never mixes them with others; give another directory", out)
	}
	return out, true, nil
}

// replayProgress shows a replay's progress on w: a bar with events/s and
// ETA when w is a terminal, otherwise a line at most every interval and one
// at the end.
type replayProgress struct {
	w        io.Writer
	bar      *progressbar.ProgressBar
	start    time.Time
	interval time.Duration
	shown    time.Time
	done     uint64
	total    uint64
}

func newReplayProgress(w io.Writer) *replayProgress {
	p := &replayProgress{w: w, start: time.Now(), interval: time.Second}
	p.shown = p.start
	if isTerminal(w) {
		p.bar = newReplayBar(w)
	}
	return p
}

func newReplayBar(w io.Writer) *progressbar.ProgressBar {
	return progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("replay"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("events"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionFullWidth(),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
}

// show is the replay's Progress callback.
func (p *replayProgress) show(done, total uint64) {
	p.done, p.total = done, total
	if p.bar != nil {
		if total > 0 && p.bar.GetMax64() != int64(total) {
			p.bar.ChangeMax64(int64(total))
		}
		_ = p.bar.Set64(int64(done))
		return
	}
	if now := time.Now(); now.Sub(p.shown) >= p.interval {
		p.shown = now
		p.line()
	}
}

// finish ends the bar, or writes the last line when the replay succeeded.
func (p *replayProgress) finish(ok bool) {
	if p.bar != nil {
		if ok {
			_ = p.bar.Finish()
		}
		_ = p.bar.Exit()
		return
	}
	if ok {
		p.line()
	}
}

func (p *replayProgress) line() {
	rate := float64(p.done) / max(time.Since(p.start).Seconds(), 1e-9)
	if p.total > 0 {
		fmt.Fprintf(p.w, "replayed %d/%d events, %.0f events/s\n", p.done, p.total, rate)
		return
	}
	fmt.Fprintf(p.w, "replayed %d events, %.0f events/s\n", p.done, rate)
}
