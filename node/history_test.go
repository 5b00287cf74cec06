package node_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node"
)

// A running node's history opens online, with its refused commands and
// without views, while its data directory is refused as in use; once the
// node is stopped, the directory opens offline with the views.
func TestOpenHistory(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	n, r, stop := startWithConversation(ctx, t, dir)
	err := checkOnline(ctx, t, n.Conn().ConnectedUrl(), r.StreamSeq)
	if _, oerr := node.OpenHistory(ctx, node.Source{Dir: dir}, false, testkit.Quiet()); !errors.Is(oerr, node.ErrInUse) {
		t.Errorf("OpenHistory on a running node's directory: %v, want ErrInUse", oerr)
	}
	if err = errors.Join(err, stop()); err != nil {
		t.Fatal(err)
	}

	h, err := node.OpenHistory(ctx, node.Source{Dir: dir}, true, testkit.Quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if h.Views() == nil || h.Views().Checkpoint() != r.StreamSeq || h.ViewsNote() != "" {
		t.Fatalf("offline, the views must be open at seq %d (note %q)", r.StreamSeq, h.ViewsNote())
	}
}

// checkOnline opens the history at url: the log up to seq, no views, and
// the log of refused commands.
func checkOnline(ctx context.Context, t *testing.T, url string, seq uint64) error {
	h, err := node.OpenHistory(ctx, node.Source{URL: url}, true, testkit.Quiet())
	if err != nil {
		return err
	}
	defer h.Close()
	if _, err := h.Log().Get(ctx, seq); err != nil {
		return err
	}
	if h.Views() != nil {
		t.Error("online, there are no views")
	}
	rejections, note, err := h.Rejections(ctx)
	if err == nil && (rejections == nil || note != "") {
		t.Errorf("a node's refused commands must open: %v, %q", rejections, note)
	}
	return err
}

// A data directory without a node's files, or a server without the stream,
// is no history.
func TestOpenHistoryRefusesWhereThereIsNoStream(t *testing.T) {
	_, err := node.OpenHistory(context.Background(), node.Source{Dir: t.TempDir()}, true, testkit.Quiet())
	if !errors.Is(err, node.ErrNoStream) {
		t.Fatalf("OpenHistory on an empty directory: %v, want ErrNoStream", err)
	}
}
