package projector

import (
	"context"
	"testing"

	"github.com/crosstalk-dev/crosstalk/events"
)

// BenchmarkOpenedPages reads a page of 20 messages and an inbox page of 20
// conversations, in clear (the floor: what the views stored before
// sealing, no keys) and sealed, opened at answer time by in-memory trees:
// the cost of opening only what the page returns.
func BenchmarkOpenedPages(b *testing.B) {
	for _, sealed := range []bool{false, true} {
		name := map[bool]string{false: "clear", true: "sealed"}[sealed]
		f := newSealedFeed(b)
		f.seedPolicies()
		convs := make([]string, 20)
		for i := range convs {
			convs[i] = events.NewID()
			f.start(convs[i], alice, bob)
			for range 20 {
				if sealed {
					f.sendSealed(convs[i], events.NewID(), bob, "a message of ordinary length, about sixty-four bytes of text....")
				} else {
					f.send(convs[i], events.NewID(), bob, "a message of ordinary length, about sixty-four bytes of text....")
				}
			}
		}
		s := openStore(b)
		mustApply(b, s, f.take())
		ctx := context.Background()
		b.Run("messages/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.OpenedMessagePage(ctx, f.keys, convs[0], alice, Page{Limit: 20}, afterV2); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("inbox/"+name, func(b *testing.B) {
			b.ReportAllocs()
			var buf []byte
			for b.Loop() {
				var err error
				if buf, err = s.AppendOpenedInboxJSON(ctx, f.keys, buf[:0], alice, Page{Limit: 20}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
