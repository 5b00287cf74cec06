package history

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/crosstalk-dev/crosstalk/cmd/crosstalk/internal/jsonout"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/cmd/crosstalk/internal/progress"
	"github.com/crosstalk-dev/crosstalk/replay"
)

// Replay rebuilds the views from the history f names into a fresh store and prints their report.
func Replay(ctx context.Context, f ReplayOptions, stdout, stderr io.Writer) error {
	opts, err := f.options()
	if err != nil {
		return err
	}
	logger := f.Target.Logger
	src, closeSrc, err := openReplaySource(ctx, f)
	if err != nil {
		return err
	}
	defer closeSrc()
	bar := progress.NewReplay(stderr)
	opts.Progress = bar.Show
	res, err := replay.ToNewDir(ctx, src, f.Out, logger, opts)
	bar.Finish(err == nil)
	if errors.Is(err, replay.ErrDirNotEmpty) {
		return fmt.Errorf("--out %w", err)
	}
	if err != nil {
		return err
	}
	rep := res.Report(f.Out)
	if f.Target.JSON {
		return jsonout.Write(stdout, rep)
	}
	return rep.WriteText(stdout)
}

// openReplaySource opens the history f names; release closes it.
func openReplaySource(ctx context.Context, f ReplayOptions) (src replay.Source, release func(), err error) {
	if f.FromJSONL != "" {
		return openJSONL(f.FromJSONL)
	}
	h, err := Open(ctx, f.Target, false)
	if err != nil {
		return nil, nil, err
	}
	var streams []audit.Log
	for _, s := range h.Log().Streams() {
		streams = append(streams, s)
	}
	ls, err := replay.FromStreams(ctx, streams)
	if err != nil {
		return nil, nil, errors.Join(err, h.Close())
	}
	return ls, func() { _ = h.Close() }, nil
}

// openJSONL opens an export, its lines counted for progress.
func openJSONL(path string) (replay.Source, func(), error) {
	src, closeFile, err := replay.OpenJSONL(path)
	if err != nil {
		return nil, nil, fmt.Errorf("--from-jsonl: %w", err)
	}
	return src, func() { _ = closeFile() }, nil
}

// ReplayOptions are the flags of crosstalk replay.
type ReplayOptions struct {
	Target    Target // --data, --nats-url, --json
	FromJSONL string
	UntilSeq  uint64
	UntilTime string
	Out       string
}

// options turns the bounds into replay.Options.
func (f ReplayOptions) options() (replay.Options, error) {
	opts := replay.Options{UntilSeq: f.UntilSeq}
	if f.UntilTime != "" {
		t, err := replay.ParseInstant(f.UntilTime)
		if err != nil {
			return opts, fmt.Errorf("--until-time: %w", err)
		}
		opts.UntilTime = t
	}
	return opts, nil
}
