package views

import (
	"strings"
	"testing"

	json "github.com/goccy/go-json"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/seal"
)

// A page is sized by what its sealed items take once opened, not by
// their stored length: 4,096 `<` are 24,578 bytes of JSON opened and about
// 5,600 sealed, so a page sized on the stored bytes outgrew its message.
func TestOpenedBytesBoundsTheOpenedItem(t *testing.T) {
	tree, err := seal.NewTree()
	if err != nil {
		t.Fatal(err)
	}
	k, _ := tree.Leaf(0)
	text := strings.Repeat("<", api.MaxTextBytes)
	sealed, err := seal.Seal(k, tree.ID(), 0, nil, text)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := json.Marshal(api.MessageView{MessageID: "m", Sender: "instagram:ann",
		Text: Content("", sealed, events.Event{ID: "e", Type: events.MessageSent}, 7)})
	opened, _ := json.Marshal(api.MessageView{MessageID: "m", Sender: "instagram:ann", Text: text})
	if got := openedBytes(stored); got < len(opened) || got > 2*len(opened) {
		t.Fatalf("openedBytes %d for an item of %d bytes opened (%d stored)", got, len(opened), len(stored))
	}
	plain, _ := json.Marshal(api.MessageView{MessageID: "m", Text: "no seal here"})
	if openedBytes(plain) != len(plain) {
		t.Fatal("an item with nothing sealed is counted at its length")
	}
}
