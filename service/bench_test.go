package service

import (
	"github.com/crosstalk-dev/crosstalk/codec"
	"testing"

	"github.com/crosstalk-dev/crosstalk/identity"
)

// BenchmarkDecodeInboxQuery is the request side of one inbox query:
// decoding and checking its body, as queryInboxNow does before the read.
func BenchmarkDecodeInboxQuery(b *testing.B) {
	body := []byte(`{"account":"instagram:hub-17"}`)
	b.ReportAllocs()
	for range b.N {
		q := inboxQuery{by: identity.SelfDeclared}
		if err := codec.Decode(body, &q); err != nil {
			b.Fatal(err)
		}
		if err := q.check(); err != nil {
			b.Fatal(err)
		}
	}
}
