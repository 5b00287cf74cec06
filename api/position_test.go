package api_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/crosstalk-dev/crosstalk/api"
)

// A position reads back as the sequences it was made of, and anything a
// reply never gave is ErrBadPosition.
func TestPositionSeqs(t *testing.T) {
	for p, want := range map[api.Position][]uint64{
		"":                        nil,
		api.PositionAt(42):        {42},
		"v1.0":                    {0},
		"v1.7.0.9":                {7, 0, 9},
		"v1.18446744073709551615": {18446744073709551615},
		api.PositionAt(1<<64 - 1): {1<<64 - 1},
		api.Position(api.AppendPositionAt(nil, 5)): {5},
	} {
		got, err := p.Seqs()
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%q: got %v, %v; want %v", p, got, err, want)
		}
	}
	for _, p := range []api.Position{"7", "v2.7", "v1.", "v1..3", "v1.3.", "v1.+3", "v1.-3", "v1.x", "v1.18446744073709551616", "V1.3"} {
		if _, err := p.Seqs(); !errors.Is(err, api.ErrBadPosition) {
			t.Errorf("%q: got %v, want ErrBadPosition", p, err)
		}
	}
}

// Seq reads a position in a log of one stream: one with more partitions
// than the log has is refused.
func TestPositionSeq(t *testing.T) {
	if seq, err := api.PositionAt(9).Seq(); seq != 9 || err != nil {
		t.Fatalf("v1.9: %d, %v", seq, err)
	}
	if seq, err := api.Position("").Seq(); seq != 0 || err != nil {
		t.Fatalf("empty: %d, %v", seq, err)
	}
	if _, err := api.Position("v1.9.1").Seq(); !errors.Is(err, api.ErrBadPosition) {
		t.Fatalf("v1.9.1 in a log of one stream: %v", err)
	}
}

// A position of several streams names each, in order, and reads back.
func TestPositionOfSeveralStreams(t *testing.T) {
	p := api.PositionOf([]uint64{3, 0, 7, 0, 1})
	if p != "v1.3.0.7.0.1" {
		t.Fatalf("PositionOf = %q", p)
	}
	seqs, err := p.Seqs()
	if err != nil || len(seqs) != 5 || seqs[2] != 7 {
		t.Errorf("Seqs = %v, %v", seqs, err)
	}
	if _, err := p.Seq(); err == nil {
		t.Error("a log of one stream took a position of five")
	}
	if api.PositionOf([]uint64{42}) != api.PositionAt(42) {
		t.Error("PositionOf one sequence differs from PositionAt")
	}
}
