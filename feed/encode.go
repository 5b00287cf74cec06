package feed

import (
	json "github.com/goccy/go-json"

	"github.com/crosstalk-dev/crosstalk/api"
)

// appendNotification appends n's JSON to b.
func appendNotification(b []byte, n *api.Notification) []byte {
	out, err := json.Marshal(n)
	if err != nil {
		return b
	}
	return append(b, out...)
}
