// Package guides keeps the guides true: it reads the fenced code blocks of
// README.md and docs/*.md, each marked by an HTML comment on the line just
// before its fence (docs/guides.md lists the markers), and runs the blocks
// marked to run, in order, in one bash session per document, the way a
// reader following the guide top to bottom would.
//
// It is a test-only package: the plain `go test ./...` checks that every
// block carries a valid marker, and `go test -tags guides ./internal/guides`
// (which .ci/run runs with the crosstalk binary, the nats CLI and nats-server
// on PATH) runs the guides themselves.
package guides
