package views

import (
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"
)

// ReadConversations reads the records of the conversations ids with one
// iterator, seeking in key order, and calls fn with each that exists. A
// run of point reads made a fresh iterator each (its sstable lookups, its
// block-cache probes); ascending seeks on one iterator let Pebble step
// forward from where it is. This is how the closer reads 100,000 heads and
// how Apply loads a run's conversations that its cache does not hold. R is
// what each record is decoded into: ConvRecord, or HeadRecord for a head.
func ReadConversations[R any](r Reader, ids []string, fn func(id string, c *R) error) error {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	if len(ids) == 0 {
		return nil
	}
	prefix := TablePrefix(TableConv)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: PrefixEnd(prefix)})
	if err != nil {
		return fmt.Errorf("read conversations: %w", err)
	}
	for _, id := range ids {
		k := ConvKey(id)
		if !it.SeekGE(k) {
			break
		}
		if string(it.Key()) != string(k) {
			continue
		}
		var c R
		v, err := it.ValueAndErr()
		if err == nil {
			err = Unmarshal(it.Key(), v, &c)
		}
		if err == nil {
			err = fn(id, &c)
		}
		if err != nil {
			_ = it.Close()
			return err
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("read conversations: %w", err)
	}
	return nil
}
