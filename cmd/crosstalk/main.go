// Command crosstalk runs the crosstalk service, its demo, and its operator
// and audit tools. See `crosstalk --help`.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/crosstalk-dev/crosstalk/cmd/crosstalk/internal/serving"
	"github.com/crosstalk-dev/crosstalk/node"
)

func main() {
	// Everything crosstalk writes (data directories, exports, replays,
	// timelines, auth init's files) holds message text or secrets: owner
	// only, whatever the umask (docs/security.md, "Data at rest").
	node.RestrictUmask()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		// serve under --log-format json already wrote it as its last
		// log line: a line of text after it would break the log's format.
		if !errors.As(err, new(serving.LoggedError)) {
			fmt.Fprintln(os.Stderr, "crosstalk:", err)
		}
		os.Exit(1)
	}
}

// run is the whole program, testable: arguments in, output to stdout and
// stderr, an error out.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	root := newRootCommand(stdout, stderr)
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}
