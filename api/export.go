package api

import (
	"encoding/json"
	"time"
)

// QueryExport is the query crosstalk.query.export: ExportQuery ->
// ExportPage. It pages through everything an account wrote and may see
// (GDPR art. 15 and 20): the events on its own subject and on the
// conversations it takes part in (another participant's read markers
// left out), in order, texts and reactions opened.
const QueryExport = "export"

// ExportQuery is the request of crosstalk.query.export. The account
// itself, its app's backend and the admin may ask.
type ExportQuery struct {
	QueryBase
	Account string `json:"account"`
	Limit   int    `json:"limit,omitempty"`
	Cursor  Cursor `json:"cursor,omitempty"`
}

// ExportPage is one page of an account's export; its items are in
// subject order (the account's own subject, then its conversations'),
// each subject's in stream order.
type ExportPage struct {
	Items      []ExportItem `json:"items"`
	NextCursor Cursor       `json:"next_cursor,omitempty"` // "" on the last page
}

// ExportItem is one event of an export: its envelope's facts, the policy
// version in force when it was decided, and its data with any sealed text
// or reaction opened (in "text" or "reaction", "sealed" left out). An
// item whose content was erased has it "" and Erased says why.
type ExportItem struct {
	Seq            uint64          `json:"seq"`
	EventID        string          `json:"event_id"`
	Type           string          `json:"type"`
	Time           time.Time       `json:"time"`
	ConversationID string          `json:"conversation_id,omitempty"`
	Actor          string          `json:"actor"`
	PolicyVersion  uint64          `json:"policy_version"`
	Data           json.RawMessage `json:"data"`
	Erased         *Erasure        `json:"erased,omitempty"`
}
