package report

import (
	"cmp"
	"fmt"
	"html/template"
	"io"

	"github.com/crosstalk-dev/crosstalk/events"
)

// timelinePage is the HTML page of a timeline. html/template escapes every
// text it inserts, so an event's text cannot inject markup; the page has
// inline CSS and no link, script or image, so it opens offline as it is.
var timelinePage = template.Must(template.New("timeline").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #1d1d1f; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #ddd; vertical-align: top; }
th { background: #f2f2f2; }
td.change { font-family: ui-monospace, monospace; white-space: pre-wrap; word-break: break-all; }
tr.boundary td { background: #fff3cd; border-top: 3px solid #c78a00; font-weight: bold; }
tr.closed td { background: #f8d7da; font-weight: bold; }
tr.undecodable td { background: #eee; color: #a00; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p>Every event in stream order, as stored in JetStream stream CROSSTALK. A yellow
row marks a policy boundary: the events below it were decided under another
policy version. A red row is the conversation being closed.</p>
<table>
<thead><tr><th>seq</th><th>time (UTC)</th>{{if .Account}}<th>subject</th>{{end}}<th>actor</th>{{if .Principals}}<th>principal</th>{{end}}<th>type</th><th>policy</th><th>what changed</th></tr></thead>
<tbody>
{{- range .Rows}}
{{- if .Boundary}}
<tr class="boundary" data-policy-boundary="v{{.From}}-v{{.To}}"><td colspan="{{$.Columns}}">policy boundary: v{{.From}} → {{.Label}}</td></tr>
{{- end}}
<tr{{with .Class}} class="{{.}}"{{end}}><td>{{.Seq}}</td><td>{{.Time}}</td>{{if $.Account}}<td>{{.Subject}}</td>{{end}}<td>{{.Actor}}</td>{{if $.Principals}}<td>{{.Principal}}</td>{{end}}<td>{{.Type}}</td><td>v{{.Policy}}</td><td class="change">{{.Change}}</td></tr>
{{- end}}
</tbody>
</table>
</body>
</html>
`))

// htmlRow is one table row of the page, with the boundary before it.
type htmlRow struct {
	Boundary bool
	From, To uint64
	Label    string
	Class    string
	Seq      uint64
	Time     string
	Subject  string
	Actor    string
	// Principal is the authenticated principal, "-" if none.
	Principal string
	Type      string
	Policy    uint64
	Change    string
}

// WriteHTML writes the timeline as one self-contained HTML page: a table
// of the events with a separator row wherever the policy version changes
// from one event to the next, and the conversation.closed rows highlighted.
func (tl Timeline) WriteHTML(w io.Writer) error {
	page := struct {
		Title      string
		Account    bool
		Principals bool
		Columns    int
		Rows       []htmlRow
	}{Title: tl.Title(), Account: tl.Account != "", Principals: tl.HasPrincipals(), Columns: 6, Rows: tl.htmlRows()}
	if page.Account {
		page.Columns++
	}
	if page.Principals {
		page.Columns++
	}
	return timelinePage.Execute(w, page)
}

func (tl Timeline) htmlRows() []htmlRow {
	names := map[uint64]string{}
	for _, p := range tl.Policies {
		names[p.Version] = p.String()
	}
	rows := make([]htmlRow, 0, len(tl.Entries))
	var prev *TimelineEntry // the last decodable entry: an undecodable one has no policy
	for i, e := range tl.Entries {
		r := htmlRow{Seq: e.Seq, Time: formatTime(e.Time), Subject: e.Subject, Actor: e.Actor,
			Principal: cmp.Or(e.Principal, "-"), Type: ShortType(e.Type), Policy: e.PolicyVersion, Change: e.Change + erasedSuffix(e.Erased)}
		if e.Type != Undecodable {
			if prev != nil && e.PolicyVersion != prev.PolicyVersion {
				r.Boundary, r.From, r.To = true, prev.PolicyVersion, e.PolicyVersion
				r.Label = cmp.Or(names[e.PolicyVersion], fmt.Sprintf("v%d", e.PolicyVersion))
			}
			prev = &tl.Entries[i]
		}
		switch e.Type {
		case events.ConversationClosed:
			r.Class = "closed"
		case Undecodable:
			r.Class = "undecodable"
		}
		rows = append(rows, r)
	}
	return rows
}
