package history

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/crosstalk-dev/crosstalk/cmd/crosstalk/internal/jsonout"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/replay"
	"github.com/crosstalk-dev/crosstalk/report"
)

// Verify checks every subject's hash chain, the signatures opts asks for and, with a data directory, the views; a break is an error.
func Verify(ctx context.Context, t Target, sig Signatures, stdout, stderr io.Writer) error {
	opts, err := sig.Options()
	if err != nil {
		return err
	}
	h, err := Open(ctx, t, true)
	if err != nil {
		return err
	}
	defer h.Close()
	if h.Views() != nil { // a nil *projector.Store is not a nil audit.Views
		opts.Views = h.Views()
	}
	rep, err := audit.VerifyWith(ctx, h.Log(), opts)
	if err != nil {
		return err
	}
	if t.JSON {
		err = jsonout.Write(stdout, rep)
	} else {
		err = rep.WriteText(stdout, viewsNote(t, h))
	}
	switch {
	case err == nil && rep.BreaksTotal > 0:
		err = fmt.Errorf("the history does not verify: %d break(s)", rep.BreaksTotal)
	case err == nil && !rep.OK():
		err = fmt.Errorf("the history verifies, with %d finding(s) about its stream", len(rep.Findings))
	}
	return err
}

// Checksum prints the history's sha256 up to until (each stream's entry on a partitioned log; none: every stream's last).
func Checksum(ctx context.Context, t Target, until []uint64, stdout, stderr io.Writer) error {
	h, err := Open(ctx, t, false)
	if err != nil {
		return err
	}
	defer h.Close()
	if len(until) == 1 && until[0] == 0 {
		until = nil // every stream's last
	}
	sum, err := audit.ChecksumStreams(ctx, h.Log(), until)
	if err != nil {
		return err
	}
	if t.JSON {
		return jsonout.Write(stdout, sum)
	}
	if len(sum.Streams) == 0 {
		fmt.Fprintf(stdout, "sha256: %s\nevents: %d\nuntil seq: %d\n", sum.Hex, sum.Events, sum.UntilSeq)
		return nil
	}
	fmt.Fprintf(stdout, "sha256: %s\nevents: %d\nstreams:\n", sum.Hex, sum.Events)
	for _, s := range sum.Streams {
		fmt.Fprintf(stdout, "%s %d %s\n", s.Stream, s.UntilSeq, s.Hex)
	}
	return nil
}

// Timeline prints every event of conv, or of account, and writes it as an HTML page to htmlFile unless that is "".
func Timeline(ctx context.Context, t Target, conv, account, htmlFile string, stdout, stderr io.Writer) error {
	var who events.Account
	if account != "" {
		a, err := events.ParseAccount(account)
		if err != nil {
			return err
		}
		who = a
	}
	h, err := Open(ctx, t, false)
	if err != nil {
		return err
	}
	defer h.Close()
	var tl report.Timeline
	if who != "" {
		tl, err = report.AccountTimeline(ctx, h.Log(), who)
	} else {
		tl, err = report.ConversationTimeline(ctx, h.Log(), conv)
	}
	if err != nil {
		return err
	}
	if err := writeHTMLFile(htmlFile, tl, stderr); err != nil {
		return err
	}
	if t.JSON {
		return jsonout.Write(stdout, tl)
	}
	return tl.WriteText(stdout)
}

// writeHTMLFile writes tl as an HTML page to the file name, unless name is
// "", and says so on stderr.
func writeHTMLFile(name string, tl report.Timeline, stderr io.Writer) error {
	if name == "" {
		return nil
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600) // it quotes message text
	if err != nil {
		return err
	}
	if err := tl.WriteHTML(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s\n", name)
	return nil
}

// Visibility prints what viewer could see at the instant at, by the policy in force then.
func Visibility(ctx context.Context, t Target, viewer, at string, stdout, stderr io.Writer) error {
	who, err := events.ParseAccount(viewer)
	if err != nil {
		return err
	}
	when, err := replay.ParseInstant(at)
	if err != nil {
		return err
	}
	h, err := Open(ctx, t, false)
	if err != nil {
		return err
	}
	defer h.Close()
	v, err := report.SeenBy(ctx, h.Log(), who, when, report.AsOfOptions{})
	if err != nil {
		return err
	}
	if t.JSON {
		return jsonout.Write(stdout, v)
	}
	return v.WriteText(stdout)
}

// Policy prints what a policy version did: when it took effect, what it closed, what it refused.
func Policy(ctx context.Context, t Target, version uint64, stdout, stderr io.Writer) error {
	h, err := Open(ctx, t, false)
	if err != nil {
		return err
	}
	defer h.Close()
	stream, note, err := h.Rejections(ctx)
	if err != nil {
		return err
	}
	var rejections report.Rejections // a nil *eventlog.Rejections is not a nil report.Rejections
	if stream != nil {
		rejections = stream
	}
	rep, err := report.Policy(ctx, h.Log(), rejections, version)
	if err != nil {
		return err
	}
	rep.RejectionsNote = note
	if t.JSON {
		return jsonout.Write(stdout, rep)
	}
	return rep.WriteText(stdout)
}

// Export writes the history as JSON lines to out (stdout when ""), and a summary to stderr.
func Export(ctx context.Context, t Target, until uint64, out string, stdout, stderr io.Writer) error {
	h, err := Open(ctx, t, false)
	if err != nil {
		return err
	}
	defer h.Close()
	var n uint64
	if out == "" {
		n, err = replay.Export(ctx, h.Log(), until, stdout)
	} else {
		n, err = replay.ExportFile(ctx, h.Log(), until, out)
	}
	if err != nil {
		return err
	}
	where := ""
	if out != "" {
		where = " to " + out
	}
	if names := h.Log().StreamNames(); len(names) > 1 {
		fmt.Fprintf(stderr, "exported %d events of %d streams (%s)%s\n", n, len(names), strings.Join(names, ", "), where)
		return nil
	}
	fmt.Fprintf(stderr, "exported %d events (seq 1..%d)%s\n", n, n, where)
	return nil
}
