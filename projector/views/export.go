package views

import (
	"context"
	"fmt"
	"slices"

	json "github.com/goccy/go-json"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/events"
)

// ExportPage returns a page of account's export (api.QueryExport): the
// events of hist/ on the account's own subject and on each conversation it
// takes part in, subject after subject in key order, each in stream order,
// leaving out the read markers of other participants; texts and reactions
// opened by o (nil: as stored), an erased one marked. Only the page's
// items are opened. The cursor names the last item's hist/ key.
func (q *Queries) ExportPage(ctx context.Context, o Opener, account events.Account, p Page) (api.ExportPage, error) {
	snap, release, err := q.snapshot()
	if err != nil {
		return api.ExportPage{}, err
	}
	defer release()
	if found, err := GetJSON(snap, AcctKey(account), new(AccountRecord)); err != nil || !found {
		return api.ExportPage{}, cmpErr(err, fmt.Errorf("%w: %s has no events", ErrUnknownAccount, account))
	}
	subjects, err := exportSubjects(snap, account)
	if err != nil {
		return api.ExportPage{}, err
	}
	x := &exporter{r: snap, ctx: ctx, o: o, account: account, erased: accountErasures(snap),
		limit: ClampLimit(p.Limit), size: pageBytes{used: len(`{"items":[]}`), max: p.MaxBytes},
		page: api.ExportPage{Items: []api.ExportItem{}}}
	return x.page, x.run(subjects, p.Cursor)
}

// cmpErr is err if set, else alt.
func cmpErr(err, alt error) error {
	if err != nil {
		return err
	}
	return alt
}

// exportSubjects are the stream subjects of account's export, sorted as
// their hist/ keys are.
func exportSubjects(r Reader, account events.Account) ([]string, error) {
	subjects := []string{events.AccountSubject(account)}
	err := ScanInboxConversations(r, account, func(conv string) {
		subjects = append(subjects, events.ConversationSubject(conv))
	})
	slices.Sort(subjects)
	return slices.Compact(subjects), err
}

// exporter reads one export page.
type exporter struct {
	r       Reader
	ctx     context.Context
	o       Opener
	account events.Account
	erased  func(events.Account) (*AccountErasure, error)
	limit   int
	size    pageBytes
	page    api.ExportPage
	last    []byte // the hist/ key suffix of the page's last item
}

// run fills the page from the item after cursor.
func (x *exporter) run(subjects []string, cursor api.Cursor) error {
	table := tablePrefix(tableHist)
	from, err := resume(table, cursor, func(b []byte) bool { _, _, ok := parseHistKey(withSuffix(table, b)); return ok })
	if err != nil {
		return err
	}
	for _, subject := range subjects {
		prefix := newKey(tableHist).text(subject)
		if from != nil && string(prefixEnd(prefix)) <= string(from) {
			continue // before the cursor
		}
		if string(from) < string(prefix) {
			from = nil
		}
		more := true
		err := Scan(x.r, prefix, from, func(k, v []byte) (bool, error) {
			more = true
			ok, err := x.add(subject, k, v)
			more = ok
			return ok, err
		})
		if err != nil || !more {
			return err
		}
		from = nil
	}
	return nil
}

// add adds the stored event v at hist/ key k, unless the page is full
// (false, with its NextCursor set).
func (x *exporter) add(subject string, k, v []byte) (bool, error) {
	item, keep, err := x.item(subject, k, v)
	if err != nil || !keep {
		return err == nil, err
	}
	b, err := json.Marshal(item)
	if err != nil {
		return false, err
	}
	sfx := k[len(tableHist):]
	n := len(x.page.Items)
	if n == x.limit || !x.size.take(len(b)+1, cursorLen(len(sfx)), n == 0) {
		x.page.NextCursor = EncodeCursor(x.last)
		return false, nil
	}
	x.last = append(x.last[:0], sfx...)
	x.page.Items = append(x.page.Items, item)
	return true, nil
}
