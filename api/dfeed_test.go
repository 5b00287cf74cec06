package api_test

import (
	"testing"

	"github.com/crosstalk-dev/crosstalk/api"
)

// A durable feed subject names its account, and nothing else names one.
func TestDurableFeedSubjects(t *testing.T) {
	for _, a := range []string{"instagram:alice", "thirdparty-birdychat:Zed_9"} {
		s := api.DurableFeedSubject(a)
		if got := api.DurableFeedAccount(s); got != a {
			t.Errorf("%s: %s names %q", a, s, got)
		}
	}
	for _, s := range []string{"crosstalk.feed.instagram.alice", "crosstalk.dfeed.instagram", "crosstalk.dfeed..alice",
		"crosstalk.dfeed.instagram.alice.x", "crosstalk.dfeed.instagram."} {
		if got := api.DurableFeedAccount(s); got != "" {
			t.Errorf("%s names %q, want none", s, got)
		}
	}
	if api.DurableFeedStream("instagram") != "CROSSTALK_FEED_instagram" || api.DurableFeedSubjects("instagram") != "crosstalk.dfeed.instagram.>" {
		t.Error("stream or subjects")
	}
}
