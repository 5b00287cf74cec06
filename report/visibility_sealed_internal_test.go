package report

import (
	"strings"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/internal/sealtest"
)

// The visibility report opens nothing: a sealed text or reaction reads
// [sealed], never its ciphertext, and an erased message says why.
func TestVisibilityShowsSealedNotCiphertext(t *testing.T) {
	keys := sealtest.New()
	s, err := keys.Seal("instagram:alice", "c1", 1, "t", "id", "secret")
	if err != nil {
		t.Fatal(err)
	}
	got := messageText(api.MessageView{Text: s, Reactions: map[string]string{"messenger:bob": s}})
	if got != `[sealed] [messenger:bob [sealed]]` {
		t.Errorf("sealed message reads %q", got)
	}
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	got = messageText(api.MessageView{Erased: &api.Erasure{At: at, By: "admin", Reason: api.ErasedAccount}})
	if got != "(erased: account_erased by admin at 2024-01-02T03:04:05Z)" || strings.Contains(got, "s1.") {
		t.Errorf("erased message reads %q", got)
	}
}
