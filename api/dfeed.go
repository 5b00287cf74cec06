package api

import "strings"

// Durable feeds (docs/feeds.md, "Durable feeds for app backends"): each
// notification of the live feeds, without its text or reaction, also kept
// in a JetStream stream per app, DurableFeedStream(app), on
// DurableFeedSubject(account), that the app's backend reads with a durable
// consumer from any position.
const (
	// DurableFeedPrefix starts a durable feed subject:
	// crosstalk.dfeed.<app>.<handle>.
	DurableFeedPrefix = "crosstalk.dfeed."
	// DurableFeedStreamPrefix starts a durable feed stream's name:
	// CROSSTALK_FEED_<app>, in the service's account and, under an
	// identity configuration, its copy in the app's account.
	DurableFeedStreamPrefix = "CROSSTALK_FEED_"
)

// DurableFeedSubject is account's durable feed subject,
// crosstalk.dfeed.<app>.<handle>.
func DurableFeedSubject(account string) string {
	return DurableFeedPrefix + strings.Replace(account, ":", ".", 1)
}

// DurableFeedSubjects are app's durable feed subjects,
// crosstalk.dfeed.<app>.>: what its stream holds.
func DurableFeedSubjects(app string) string { return DurableFeedPrefix + app + ".>" }

// DurableFeedStream is the name of app's durable feed stream,
// CROSSTALK_FEED_<app>.
func DurableFeedStream(app string) string { return DurableFeedStreamPrefix + app }

// DurableFeedAccount is the account whose durable feed subject is subject
// ("<app>:<handle>"), or "" when subject is none.
func DurableFeedAccount(subject string) string {
	rest, ok := strings.CutPrefix(subject, DurableFeedPrefix)
	app, handle, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || app == "" || handle == "" || strings.Contains(handle, ".") {
		return ""
	}
	return app + ":" + handle
}
