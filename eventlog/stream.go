package eventlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// streamConfig is the configuration Open creates the stream with: every
// message is kept forever and cannot be removed through the JetStream API.
// AllowDirect lets Load read a subject with one batch request, without
// creating a consumer.
func streamConfig(opts Options, spec streamSpec) jetstream.StreamConfig {
	cfg := jetstream.StreamConfig{
		Description:       "crosstalk events; history cannot be deleted or purged",
		Storage:           jetstream.FileStorage,
		Retention:         jetstream.LimitsPolicy,
		Discard:           jetstream.DiscardOld,
		MaxConsumers:      -1,
		MaxMsgs:           -1,
		MaxBytes:          -1,
		MaxMsgsPerSubject: -1,
		MaxAge:            0,
		Duplicates:        opts.Duplicates,
		DenyDelete:        true,
		DenyPurge:         true,
		AllowDirect:       true,
	}
	spec.configure(&cfg)
	opts.replication().apply(&cfg)
	cfg.AllowAtomicPublish = opts.GroupCommit
	return cfg
}

// allowAtomic turns on atomic batch publish (allow_atomic) in stream, which
// Options.GroupCommit needs, if it is off: a stream created without it
// keeps its history and gains the setting in place.
func allowAtomic(ctx context.Context, js jetstream.JetStream, stream jetstream.Stream) (jetstream.Stream, error) {
	cfg := stream.CachedInfo().Config
	if cfg.AllowAtomicPublish {
		return stream, nil
	}
	cfg.AllowAtomicPublish = true
	updated, err := js.UpdateStream(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("allow atomic publish (group commit): %w", err)
	}
	return updated, nil
}

// ensureStream returns the stream named cfg.Name, creating it with cfg if
// it does not exist.
func ensureStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig, logger *slog.Logger) (jetstream.Stream, error) {
	stream, err := js.Stream(ctx, cfg.Name)
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return stream, err
	}
	stream, err = js.CreateStream(ctx, cfg)
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		// Another process created it between our two requests; check theirs.
		return js.Stream(ctx, cfg.Name)
	}
	if err == nil {
		logger.Info("eventlog: created stream", slog.String("stream", cfg.Name),
			slog.Int("replicas", cfg.Replicas), slog.Duration("duplicates", cfg.Duplicates))
	}
	return stream, err
}

// checkStream returns an error wrapping ErrStreamMisconfigured that lists
// every setting of cfg that could lose history or miss events, with the fix
// for each, or nil when there is none.
func checkStream(cfg jetstream.StreamConfig, spec streamSpec) error {
	problems := misconfigurations(cfg, spec)
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: stream %s: %s", ErrStreamMisconfigured, cfg.Name, strings.Join(problems, "; "))
}

// misconfigurations describes each wrong setting of cfg and how to fix it.
func misconfigurations(cfg jetstream.StreamConfig, spec streamSpec) []string {
	var problems []string
	add := func(ok bool, problem string) {
		if !ok {
			problems = append(problems, problem)
		}
	}
	name := cfg.Name
	add(mirrorsTheLog(cfg, spec) || slices.ContainsFunc(cfg.Subjects, func(s string) bool { return covers(s, spec.filter) }),
		fmt.Sprintf("subjects %q do not capture %s, so appends would find no stream; "+
			"add it to the stream's subjects (nats stream edit %s --subjects ...)", cfg.Subjects, spec.filter, name))
	problems = append(problems, spec.laidOut(cfg)...)
	add(cfg.Storage == jetstream.FileStorage,
		fmt.Sprintf("storage is %s, so history is lost when the server stops; storage cannot be changed in place: "+
			"copy the stream into a new file-storage stream (for example by sourcing it) and replace it", cfg.Storage))
	add(cfg.DenyDelete,
		fmt.Sprintf("deny_delete is off, so single events can be deleted through the broker; "+
			"turn it on with nats stream edit %s --deny-delete", name))
	add(cfg.DenyPurge,
		fmt.Sprintf("deny_purge is off, so history can be purged through the broker; "+
			"turn it on with nats stream edit %s --deny-purge", name))
	add(cfg.Retention == jetstream.LimitsPolicy,
		fmt.Sprintf("retention is %s, so events are removed once consumed; "+
			"use limits retention (nats stream edit %s --retention limits, or recreate a work-queue stream)", cfg.Retention, name))
	add(!dropsHistory(cfg),
		fmt.Sprintf("a limit (max_age %s, max_msgs %d, max_bytes %d, max_msgs_per_subject %d) removes old events "+
			"or refuses new ones; make each unlimited (nats stream edit %s: -1, or 0 for max_age)",
			cfg.MaxAge, cfg.MaxMsgs, cfg.MaxBytes, cfg.MaxMsgsPerSubject, name))
	return problems
}

// mirrorsTheLog reports whether cfg is a mirror of the stream spec
// describes, such as the auditor's copy (docs/security.md): a mirror has
// no subjects of its own and holds its origin's messages under their
// sequences and stored subjects, which a partition's transform already
// made the logical ones.
func mirrorsTheLog(cfg jetstream.StreamConfig, spec streamSpec) bool {
	return cfg.Mirror != nil && cfg.Mirror.Name == spec.name
}

// dropsHistory reports whether a stream limit makes JetStream remove old
// messages (discard old) or refuse appends (discard new) once reached.
func dropsHistory(cfg jetstream.StreamConfig) bool {
	return cfg.MaxAge > 0 || cfg.MaxMsgs > 0 || cfg.MaxBytes > 0 || cfg.MaxMsgsPerSubject > 0
}

// covers reports whether the subject filter pattern matches every subject
// that filter matches, for NATS filters with * and > wildcards.
func covers(pattern, filter string) bool {
	p, f := strings.Split(pattern, "."), strings.Split(filter, ".")
	for i, tok := range p {
		switch {
		case tok == ">":
			return i < len(f)
		case i >= len(f):
			return false
		case tok == "*":
			if f[i] == ">" {
				return false
			}
		case tok != f[i]:
			return false
		}
	}
	return len(p) == len(f)
}

// apiPrefix is the JetStream API subject prefix that js sends requests to.
func apiPrefix(o jetstream.JetStreamOptions) string {
	switch {
	case o.Domain != "":
		return "$JS." + o.Domain + ".API."
	case o.APIPrefix != "":
		return strings.TrimSuffix(o.APIPrefix, ".") + "."
	}
	return jetstream.DefaultAPIPrefix
}
