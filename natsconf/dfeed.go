package natsconf

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/api"
)

// Durable feeds under the identity configuration (docs/feeds.md, "Durable
// feeds for app backends"; docs/security.md): the service keeps app's
// durable feed in its own account (api.DurableFeedStream), and each app's
// account holds a mirror of it under the same name, which the app's
// backend reads with consumers of its own. As for the auditor's copies,
// the service creates the mirror: whoever configures a mirror chooses the
// subject the service's account delivers it to, so the backend may not
// create, change or delete a stream.

// FeedAPIPrefix is where the service's account reaches the stream create,
// info and update of app's mirror, in app's account (EnsureFeedMirrors).
func FeedAPIPrefix(app string) string { return "$JS.FEED." + app + ".API" }

// FeedDeliverPrefix is the subject the service's account delivers app's
// mirror under, exported to app's account alone: the mirror's
// External.DeliverPrefix. Its External.APIPrefix is ServiceAPIPrefix, in
// app's account.
func FeedDeliverPrefix(app string) string { return "$JS.CROSSTALK.FEED." + app + ".DELIVER" }

// writeFeedExports writes the service account's side of app's mirror: the
// consumer create, stream info and flow control it reaches, its delivery,
// and the imports of app's stream create, info and update.
func writeFeedExports(b *strings.Builder, app string) {
	s := api.DurableFeedStream(app)
	for _, subject := range []string{"$JS.API.CONSUMER.CREATE." + s, "$JS.API.STREAM.INFO." + s, "$JS.FC." + s + ".>"} {
		fmt.Fprintf(b, "      {service: %q, accounts: [%q]}\n", subject, app)
	}
	fmt.Fprintf(b, "      {stream: %q, accounts: [%q]}\n", FeedDeliverPrefix(app)+".>", app)
}

// writeFeedImports writes the service account's imports of app's stream
// create, info and update, under FeedAPIPrefix(app).
func writeFeedImports(b *strings.Builder, app string) {
	s := api.DurableFeedStream(app)
	for _, op := range feedMirrorOps {
		fmt.Fprintf(b, "      {service: {account: %q, subject: %q}, to: %q}\n", app, "$JS.API."+op+s, FeedAPIPrefix(app)+"."+op+s)
	}
}

// feedMirrorOps are the JetStream API calls the service makes on app's
// mirror.
var feedMirrorOps = []string{"STREAM.CREATE.", "STREAM.INFO.", "STREAM.UPDATE."}

// writeFeedAppSide writes app's account's side: its JetStream (one stream,
// the mirror), the imports of the service's consumer create, stream info,
// flow control and delivery, and the exports of its stream create, info
// and update to the service's account.
func writeFeedAppSide(app string) (imports, exports string) {
	s := api.DurableFeedStream(app)
	var im, ex strings.Builder
	for _, op := range []string{"CONSUMER.CREATE.", "STREAM.INFO."} {
		fmt.Fprintf(&im, "      {service: {account: %q, subject: %q}, to: %q}\n", ServiceAccount, "$JS.API."+op+s, ServiceAPIPrefix+"."+op+s)
	}
	fmt.Fprintf(&im, "      {service: {account: %q, subject: %q}}\n", ServiceAccount, "$JS.FC."+s+".>")
	fmt.Fprintf(&im, "      {stream: {account: %q, subject: %q}}\n", ServiceAccount, FeedDeliverPrefix(app)+".>")
	for _, op := range feedMirrorOps {
		fmt.Fprintf(&ex, "      {service: %q, accounts: [%q]}\n", "$JS.API."+op+s, ServiceAccount)
	}
	return im.String(), ex.String()
}

// feedReaderSubjects are what an app's backend may publish to read its
// durable feed's copy in its own account with consumers of its own (the
// nats CLI's `consumer add`, `consumer next`, `stream info` included):
// the stream's info and messages, its consumers' create, info, list,
// delete, next and acks, and the origin's stream info (how far the copy
// lags). No stream create, update, purge or delete; nothing else under
// ServiceAPIPrefix, so no consumer in the service's account.
func feedReaderSubjects(app string) []string {
	s := api.DurableFeedStream(app)
	return []string{"$JS.API.INFO", "$JS.API.STREAM.NAMES", "$JS.API.STREAM.LIST",
		"$JS.API.STREAM.INFO." + s, "$JS.API.STREAM.MSG.GET." + s,
		"$JS.API.DIRECT.GET." + s, "$JS.API.DIRECT.GET." + s + ".>",
		"$JS.API.CONSUMER.CREATE." + s, "$JS.API.CONSUMER.CREATE." + s + ".>",
		"$JS.API.CONSUMER.DURABLE.CREATE." + s + ".>", "$JS.API.CONSUMER.INFO." + s + ".>",
		"$JS.API.CONSUMER.NAMES." + s, "$JS.API.CONSUMER.LIST." + s,
		"$JS.API.CONSUMER.DELETE." + s + ".>", "$JS.API.CONSUMER.MSG.NEXT." + s + ".>",
		"$JS.ACK." + s + ".>", ServiceAPIPrefix + ".STREAM.INFO." + s}
}

// ErrNoFeedAccount reports an app whose account does not answer the
// service on FeedAPIPrefix: a configuration written before durable feeds,
// or development mode, where the backend reads the service's stream.
var ErrNoFeedAccount = errors.New("no app account reachable for the durable feed's copy")

// FeedMirrorOptions are how app accounts' mirrors keep the durable feeds.
type FeedMirrorOptions struct {
	// MaxAge is how long a mirror keeps a notification: the origin's.
	MaxAge time.Duration
	// Replicas and PlacementTags place a new mirror as the origin.
	Replicas      int
	PlacementTags []string
}

// FeedMirrorConfig is app's mirror of its durable feed, in app's account.
func FeedMirrorConfig(app string, o FeedMirrorOptions) jetstream.StreamConfig {
	s := api.DurableFeedStream(app)
	cfg := jetstream.StreamConfig{
		Name:        s,
		Description: "app " + app + "'s copy of its durable feed, without text (docs/feeds.md)",
		Mirror: &jetstream.StreamSource{Name: s, External: &jetstream.ExternalStream{
			APIPrefix: ServiceAPIPrefix, DeliverPrefix: FeedDeliverPrefix(app)}},
		Storage: jetstream.FileStorage, Retention: jetstream.LimitsPolicy, Discard: jetstream.DiscardOld,
		MaxAge: o.MaxAge, MaxMsgs: -1, MaxBytes: -1, MaxMsgsPerSubject: -1, MaxConsumers: -1,
		AllowDirect: true, Replicas: max(o.Replicas, 1),
	}
	if len(o.PlacementTags) > 0 {
		cfg.Placement = &jetstream.Placement{Tags: slices.Clone(o.PlacementTags)}
	}
	return cfg
}

// EnsureFeedMirrors creates each app's mirror of its durable feed in its
// account, or sets an existing one's MaxAge to o's, as the service (nc is
// a connection of the service's account), through FeedAPIPrefix. It
// returns the apps whose mirror it created, and the errors of the others
// joined; an app whose account does not answer is one wrapping
// ErrNoFeedAccount.
func EnsureFeedMirrors(ctx context.Context, nc *nats.Conn, o FeedMirrorOptions, apps ...string) ([]string, error) {
	var created []string
	var errs []error
	for _, app := range apps {
		made, err := ensureFeedMirror(ctx, nc, app, o)
		if made {
			created = append(created, app)
		}
		errs = append(errs, err)
	}
	return created, errors.Join(errs...)
}

func ensureFeedMirror(ctx context.Context, nc *nats.Conn, app string, o FeedMirrorOptions) (bool, error) {
	js, err := jetstream.NewWithAPIPrefix(nc, FeedAPIPrefix(app))
	if err != nil {
		return false, err
	}
	cfg := FeedMirrorConfig(app, o)
	s, err := js.Stream(ctx, cfg.Name)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return false, fmt.Errorf("%w: %s: %s has no responders", ErrNoFeedAccount, app, FeedAPIPrefix(app))
	case errors.Is(err, jetstream.ErrStreamNotFound):
		_, err = js.CreateStream(ctx, cfg)
		if err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return false, fmt.Errorf("create app %s's copy of its durable feed: %w", app, err)
		}
		return err == nil, nil
	case err != nil:
		return false, fmt.Errorf("app %s's copy of its durable feed: %w", app, err)
	}
	if have := s.CachedInfo().Config; have.MaxAge != cfg.MaxAge {
		have.MaxAge = cfg.MaxAge
		if _, err := js.UpdateStream(ctx, have); err != nil {
			return false, fmt.Errorf("app %s's copy of its durable feed: %w", app, err)
		}
	}
	return false, nil
}
