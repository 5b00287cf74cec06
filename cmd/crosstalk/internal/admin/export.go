package admin

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/node"
)

// ExportAccount writes account's export (crosstalk.query.export) as JSON
// lines, one api.ExportItem a line, to out ("" or "-": stdout), asking
// page after page until the last; it reports how many items to stderr.
func ExportAccount(ctx context.Context, url string, creds node.Credentials, account, out string, stdout, stderr io.Writer) error {
	nc, err := node.ConnectWith(url, "crosstalk account export", creds)
	if err != nil {
		return err
	}
	defer nc.Close()
	w, closeOut, err := openOut(out, stdout)
	if err != nil {
		return err
	}
	n, err := exportPages(ctx, client.New(nc), account, w)
	if cerr := closeOut(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stderr, "exported %d items of %s\n", n, account)
	return err
}

// openOut is where the lines go: a file made readable by its owner only
// (an export is personal data), or stdout.
func openOut(out string, stdout io.Writer) (*bufio.Writer, func() error, error) {
	if out == "" || out == "-" {
		w := bufio.NewWriter(stdout)
		return w, w.Flush, nil
	}
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, nil, err
	}
	w := bufio.NewWriter(f)
	return w, func() error {
		if err := w.Flush(); err != nil {
			_ = f.Close()
			return err
		}
		return f.Close()
	}, nil
}

// exportPages writes every page's items to w and returns how many.
func exportPages(ctx context.Context, c *client.Client, account string, w io.Writer) (int, error) {
	enc := json.NewEncoder(w) // one object a line
	n, cursor := 0, ""
	for {
		var page api.ExportPage
		qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := c.Query(qctx, api.QueryExport, api.ExportQuery{Account: account, Limit: api.MaxPageSize, Cursor: cursor}, &page)
		cancel()
		if err != nil {
			return n, fmt.Errorf("export %s after %d items: %w", account, n, err)
		}
		for _, it := range page.Items {
			if err := enc.Encode(it); err != nil {
				return n, err
			}
			n++
		}
		if cursor = page.NextCursor; cursor == "" {
			return n, nil
		}
	}
}
