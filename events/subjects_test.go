package events

import "testing"

func TestClassifySubject(t *testing.T) {
	const conv = "0190c2d4-0000-7000-8000-000000000001"
	for _, c := range []struct {
		subject string
		kind    SubjectKind
		key     string
	}{
		{ConversationSubject(conv), SubjectConversation, conv},
		{"crosstalk.events.conv." + conv, SubjectConversation, conv},
		{AccountSubject("instagram:alice"), SubjectAccount, "instagram:alice"},
		{"crosstalk.events.account.thirdparty-birdy.Eve_1", SubjectAccount, "thirdparty-birdy:Eve_1"},
		{PolicySubject, SubjectPolicy, ""},
		{"crosstalk.events.policy", SubjectPolicy, ""},
		// junk
		{"", SubjectUnknown, ""},
		{"crosstalk.events", SubjectUnknown, ""},
		{"crosstalk.events.policy.extra", SubjectUnknown, ""},
		{"crosstalk.events.policies", SubjectUnknown, ""},
		{"crosstalk.cmd.instagram.message.send", SubjectUnknown, ""},
		{"crosstalk.query.inbox", SubjectUnknown, ""},
		{"crosstalk.events.conv.", SubjectUnknown, ""},
		{"crosstalk.events.conv." + conv + ".extra", SubjectUnknown, ""},
		{"crosstalk.events.conv", SubjectUnknown, ""},
		{"crosstalk.events.account.instagram", SubjectUnknown, ""},
		{"crosstalk.events.account.instagram.", SubjectUnknown, ""},
		{"crosstalk.events.account..alice", SubjectUnknown, ""},
		{"crosstalk.events.account.instagram.alice.x", SubjectUnknown, ""},
		{"crosstalk.events.account.Instagram.alice", SubjectUnknown, ""},
		{"other.events.conv." + conv, SubjectUnknown, ""},
	} {
		kind, key := ClassifySubject(c.subject)
		if kind != c.kind || key != c.key {
			t.Errorf("ClassifySubject(%q) = %d, %q; want %d, %q", c.subject, kind, key, c.kind, c.key)
		}
	}
}

func TestSubjectsAreUnderTheStream(t *testing.T) {
	const prefix = "crosstalk.events."
	if StreamSubjects != prefix+">" || StreamName != "CROSSTALK" {
		t.Fatalf("stream %s captures %s", StreamName, StreamSubjects)
	}
	for _, s := range []string{ConversationSubject("x"), AccountSubject("instagram:alice"), PolicySubject} {
		if len(s) <= len(prefix) || s[:len(prefix)] != prefix {
			t.Errorf("%q is not under %s", s, StreamSubjects)
		}
	}
	if got := AccountSubject("messenger:bob"); got != "crosstalk.events.account.messenger.bob" {
		t.Errorf("AccountSubject = %q", got)
	}
}
