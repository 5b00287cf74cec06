package eventlog_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/natstest"
)

func TestOpenCreatesProtectedStream(t *testing.T) {
	f := newFixture(t)
	info, err := f.log.Info(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg := info.Config
	if cfg.Name != events.StreamName || len(cfg.Subjects) != 1 || cfg.Subjects[0] != events.StreamSubjects {
		t.Errorf("name %q subjects %q", cfg.Name, cfg.Subjects)
	}
	if cfg.Storage != jetstream.FileStorage || !cfg.DenyDelete || !cfg.DenyPurge {
		t.Errorf("storage %s deny_delete %v deny_purge %v", cfg.Storage, cfg.DenyDelete, cfg.DenyPurge)
	}
	if cfg.Retention != jetstream.LimitsPolicy || cfg.Discard != jetstream.DiscardOld || cfg.MaxAge != 0 {
		t.Errorf("retention %s discard %s max_age %s", cfg.Retention, cfg.Discard, cfg.MaxAge)
	}
	if cfg.Duplicates != eventlog.DefaultDuplicates || cfg.Replicas != 1 || !cfg.AllowDirect {
		t.Errorf("duplicates %s replicas %d allow_direct %v", cfg.Duplicates, cfg.Replicas, cfg.AllowDirect)
	}
	if f.log.Stream().CachedInfo().Config.Name != events.StreamName {
		t.Error("Stream() is not the CROSSTALK stream")
	}
}

func TestOpenUsesOptions(t *testing.T) {
	js := natstest.Start(t).JetStream(t)
	l, err := eventlog.Open(testContext(t), js, eventlog.Options{Duplicates: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Stream().CachedInfo().Config.Duplicates; got != 10*time.Second {
		t.Errorf("duplicates window %s, want 10s", got)
	}
}

func TestHistoryCannotBeRemovedThroughJetStream(t *testing.T) {
	f := newFixture(t)
	seq := f.mustAppend(t, conv(1), 0, "first")
	ctx := testContext(t)
	st := f.log.Stream()
	if err := st.Purge(ctx); err == nil {
		t.Error("purge succeeded")
	}
	if err := st.Purge(ctx, jetstream.WithPurgeSubject(conv(1))); err == nil {
		t.Error("subject purge succeeded")
	}
	if err := st.DeleteMsg(ctx, seq); err == nil {
		t.Error("delete succeeded")
	}
	if err := st.SecureDeleteMsg(ctx, seq); err == nil {
		t.Error("secure delete succeeded")
	}
	if m, err := f.log.Get(ctx, seq); err != nil || string(m.Data) != "first" {
		t.Fatalf("message gone after refused removals: %+v, %v", m, err)
	}
}

func TestOpenAcceptsExistingStream(t *testing.T) {
	f := newFixture(t)
	seq := f.mustAppend(t, conv(1), 0, "first")
	again, err := eventlog.Open(testContext(t), f.js, eventlog.Options{})
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	if last, err := again.LastSeq(testContext(t)); err != nil || last != seq {
		t.Fatalf("LastSeq after reopen = %d, %v; want %d", last, err, seq)
	}
}

func TestOpenRejectsMisconfiguredStream(t *testing.T) {
	good := jetstream.StreamConfig{
		Name: events.StreamName, Subjects: []string{events.StreamSubjects},
		Storage: jetstream.FileStorage, DenyDelete: true, DenyPurge: true,
	}
	tests := []struct {
		name   string
		mutate func(*jetstream.StreamConfig)
		want   []string
	}{
		{"no deny purge", func(c *jetstream.StreamConfig) { c.DenyPurge = false }, []string{"deny_purge", "--deny-purge"}},
		{"no deny delete", func(c *jetstream.StreamConfig) { c.DenyDelete = false }, []string{"deny_delete", "--deny-delete"}},
		{"memory", func(c *jetstream.StreamConfig) { c.Storage = jetstream.MemoryStorage }, []string{"storage is Memory"}},
		{"subjects", func(c *jetstream.StreamConfig) { c.Subjects = []string{"crosstalk.events.conv.>"} }, []string{"do not capture crosstalk.events.>"}},
		{"interest", func(c *jetstream.StreamConfig) { c.Retention = jetstream.InterestPolicy }, []string{"retention is Interest"}},
		{"max age", func(c *jetstream.StreamConfig) { c.MaxAge = time.Hour }, []string{"max_age 1h0m0s"}},
		{"per subject", func(c *jetstream.StreamConfig) { c.MaxMsgsPerSubject = 10 }, []string{"max_msgs_per_subject 10"}},
		{"several", func(c *jetstream.StreamConfig) { c.DenyPurge, c.DenyDelete = false, false }, []string{"deny_purge", "deny_delete"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js := natstest.Start(t).JetStream(t)
			cfg := good
			tt.mutate(&cfg)
			if _, err := js.CreateStream(testContext(t), cfg); err != nil {
				t.Fatalf("create: %v", err)
			}
			_, err := eventlog.Open(testContext(t), js, eventlog.Options{})
			if !errors.Is(err, eventlog.ErrStreamMisconfigured) {
				t.Fatalf("Open = %v, want ErrStreamMisconfigured", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestOpenAcceptsWiderSubjects(t *testing.T) {
	js := natstest.Start(t).JetStream(t)
	_, err := js.CreateStream(testContext(t), jetstream.StreamConfig{
		Name: events.StreamName, Subjects: []string{"crosstalk.>"},
		Storage: jetstream.FileStorage, DenyDelete: true, DenyPurge: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eventlog.Open(testContext(t), js, eventlog.Options{}); err != nil {
		t.Fatalf("Open on a stream capturing crosstalk.>: %v", err)
	}
}
