package events

import "strings"

// Subject prefixes of the CROSSTALK stream. Everything crosstalk stores lives
// under StreamSubjects; the three kinds of subject below partition it.
const (
	// StreamName is the JetStream stream that holds every event.
	StreamName = "CROSSTALK"
	// StreamSubjects is the subject filter the stream captures.
	StreamSubjects = "crosstalk.events.>"
	// PolicySubject carries every policy.published event.
	PolicySubject = "crosstalk.events.policy"

	// AuditStreamName is the stream of refused commands: evidence, not
	// history, kept within size and age limits.
	AuditStreamName = "CROSSTALK_AUDIT"
	// AuditSubjects is the subject filter of the audit stream.
	AuditSubjects = "crosstalk.audit.>"

	convPrefix    = "crosstalk.events.conv."
	accountPrefix = "crosstalk.events.account."
	// rejectedPrefix starts RejectedSubject's subjects.
	rejectedPrefix = "crosstalk.audit.rejected."
)

// ConversationSubject is the stream subject of one conversation's events.
func ConversationSubject(conversationID string) string {
	return convPrefix + conversationID
}

// AccountSubject is the stream subject of one account's presence and
// settings events: crosstalk.events.account.<app>.<handle>.
func AccountSubject(a Account) string {
	return accountPrefix + string(a.App()) + "." + a.Handle()
}

// SubjectKind tells which aggregate a stream subject belongs to.
type SubjectKind int

// The kinds of stream subject.
const (
	SubjectUnknown SubjectKind = iota
	SubjectConversation
	SubjectAccount
	SubjectPolicy
)

// ClassifySubject returns the kind of a stream subject and the key inside it:
// the conversation id, the account, or "" for the policy subject. A subject
// whose key is empty, spans several tokens or is not a valid account is
// SubjectUnknown.
func ClassifySubject(subject string) (SubjectKind, string) {
	switch {
	case subject == PolicySubject:
		return SubjectPolicy, ""
	case strings.HasPrefix(subject, convPrefix):
		id := subject[len(convPrefix):]
		if id == "" || strings.Contains(id, ".") {
			return SubjectUnknown, ""
		}
		return SubjectConversation, id
	case strings.HasPrefix(subject, accountPrefix):
		app, handle, _ := strings.Cut(subject[len(accountPrefix):], ".")
		a, err := ParseAccount(app + ":" + handle)
		if err != nil {
			return SubjectUnknown, ""
		}
		return SubjectAccount, string(a)
	}
	return SubjectUnknown, ""
}

// RejectedSubject is the audit stream subject of a refused command:
// crosstalk.audit.rejected.<app>.<code>, so a consumer can filter by either.
func RejectedSubject(app App, code string) string {
	return rejectedPrefix + string(app) + "." + code
}
