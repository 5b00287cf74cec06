package api

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Position is a point in the event log, opaque to producers: every command
// reply carries the position of its event ("position"), and a query given
// it as "after" answers only once the node's views have applied it
// (read-your-writes on any node). It is "v1." followed by one decimal
// stream sequence per partition of the log, in partition order, a 0 saying
// nothing about that partition. Today's log is one stream: "v1.<seq>".
type Position string

// positionPrefix starts the one version of Position there is.
const positionPrefix = "v1."

// ErrBadPosition reports a Position that is not one a reply gave.
var ErrBadPosition = errors.New("malformed position")

// PositionAt is the position of stream sequence seq in a log of one stream.
func PositionAt(seq uint64) Position {
	return Position(positionPrefix + strconv.FormatUint(seq, 10))
}

// PositionOf is the position naming seqs, one stream sequence per
// partition of the log, in partition order.
func PositionOf(seqs []uint64) Position {
	b := []byte(positionPrefix)
	for i, seq := range seqs {
		if i > 0 {
			b = append(b, '.')
		}
		b = strconv.AppendUint(b, seq, 10)
	}
	return Position(b)
}

// AppendPositionAt appends PositionAt(seq) to b without allocating.
func AppendPositionAt(b []byte, seq uint64) []byte {
	return strconv.AppendUint(append(b, positionPrefix...), seq, 10)
}

// Seqs returns the stream sequence per partition that p names; "" names
// none (nil).
func (p Position) Seqs() ([]uint64, error) {
	if p == "" {
		return nil, nil
	}
	rest, ok := strings.CutPrefix(string(p), positionPrefix)
	if !ok {
		return nil, fmt.Errorf("%w %q: a position starts with %q; give one a command reply returned", ErrBadPosition, clip(p), positionPrefix)
	}
	parts := strings.Split(rest, ".")
	seqs := make([]uint64, len(parts))
	for i, s := range parts {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w %q: %q is not a stream sequence; give a position a command reply returned", ErrBadPosition, clip(p), s)
		}
		seqs[i] = n
	}
	return seqs, nil
}

// Seq returns the sequence p names in a log of one stream.
func (p Position) Seq() (uint64, error) {
	seqs, err := p.Seqs()
	switch {
	case err != nil:
		return 0, err
	case len(seqs) == 0:
		return 0, nil
	case len(seqs) > 1:
		return 0, fmt.Errorf("%w %q: it names %d partitions; this log has one", ErrBadPosition, clip(p), len(seqs))
	}
	return seqs[0], nil
}

// clip keeps an error message short whatever a producer sent.
func clip(p Position) string {
	if len(p) > 64 {
		return string(p[:64]) + "…"
	}
	return string(p)
}
