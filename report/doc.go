// Package report answers an auditor's questions about crosstalk's history,
// for people (text, and HTML for timelines) and for machines (JSON): the
// timeline of a conversation or an account, what an account could see at
// an instant, and what a policy version did. It reads the stream through
// audit.Walk and builds the views as of an instant with replay.BuildAsOf;
// it changes nothing.
package report
