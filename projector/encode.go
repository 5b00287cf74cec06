package projector

import (
	"time"

	json "github.com/goccy/go-json"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/jsonenc"
)

// encodeNewMessage returns the msg/ record of a message just sent (not
// edited, not unsent, no reactions), byte for byte what json.Marshal of
// its api.MessageView writes, without reflection: it is one of the
// projector's writes for nearly every event. Texts that need any escaping,
// or are not plain ASCII, go to json.Marshal, so that the bytes can only
// be its own (TestEncodeNewMessage, FuzzEncodeNewMessage).
func encodeNewMessage(id, sender, text string, at time.Time) ([]byte, error) {
	if jsonenc.Plain(id) && jsonenc.Plain(sender) && jsonenc.Plain(text) {
		b := make([]byte, 0, len(id)+len(sender)+len(text)+messageFixed)
		b = append(append(append(b, `{"message_id":"`...), id...), `","sender":"`...)
		b = append(append(append(b, sender...), `","text":"`...), text...)
		b = append(b, `","sent_at":`...)
		if b, ok := jsonenc.AppendTime(b, at); ok {
			return append(b, `,"edited":false,"unsent":false,"reactions":null}`...), nil
		}
	}
	return json.Marshal(api.MessageView{MessageID: id, Sender: sender, Text: text, SentAt: at})
}

// messageFixed is encodeNewMessage's bytes beside the three texts.
const messageFixed = 128
