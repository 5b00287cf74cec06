// Package demo is `crosstalk demo`: the seed story played on an embedded
// node under a generated identity configuration, each app and the admin on
// a NATS connection of its own, followed by four refusals that show the
// identities hold against a client that lies. With Options.Watch it first
// waits for a subscriber to an end user's live feed, for whoever wants to
// watch the story arrive there. cmd/crosstalk holds only its flags.
package demo

import (
	"context"
	"errors"
	"fmt"
	"github.com/crosstalk-dev/crosstalk/clock"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/seed"
	"github.com/crosstalk-dev/crosstalk/natsconf"
	"github.com/crosstalk-dev/crosstalk/node"
	"github.com/crosstalk-dev/crosstalk/service"
)

// Options configure a demo.
type Options struct {
	// Dir keeps the node's data; empty uses a temporary directory, removed
	// afterwards. The identity configuration is always temporary: any
	// configuration `crosstalk auth init` writes opens the data again, as
	// the streams are kept under the service account's name, not its
	// secrets.
	Dir string
	// Listen is the embedded server's client address; port 0 picks a free
	// one.
	Listen string
	// Logger receives the node's logs.
	Logger *slog.Logger
	// Out receives the story, step by step.
	Out io.Writer
	// Watch, when set, is an end user of the configuration (seed.SampleUsers:
	// "messenger:bob"): before the story the demo prints the nats CLI
	// command that subscribes to its live feed with its credentials, and
	// waits until a subscriber is there.
	Watch string
}

// The principals the refusals use, named as in credentials.json: the apps
// of alice and bob, and bob, the sample end user of bob's app.
var (
	aliceApp = string(seed.Alice.App())
	bobApp   = string(seed.Bob.App())
	bob      = string(seed.Bob)
)

// demo is a running demo: its node, its configuration and one connection
// per principal.
type demo struct {
	out   io.Writer
	clock *clock.Sim
	node  *node.Node
	cfg   natsconf.Config
	conns map[string]*conn
}

// conn is one principal's connection and the asynchronous errors the NATS
// server sent it, where a refused publish is reported.
type conn struct {
	nc   *nats.Conn
	errs chan error
}

// Run plays the demo; it returns an error wrapping seed.ErrCheck or
// ErrRefusal when an expectation fails.
func Run(ctx context.Context, o Options) (err error) {
	tmp, err := os.MkdirTemp("", "crosstalk-demo-")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, os.RemoveAll(tmp)) }()
	if o.Dir == "" {
		o.Dir = filepath.Join(tmp, "data")
	}
	d := &demo{out: o.Out, clock: clock.NewSim(seed.Start), conns: map[string]*conn{}}
	stop, err := d.start(ctx, o, filepath.Join(tmp, "auth"))
	if err != nil {
		return err
	}
	defer func() {
		d.closeConns()
		err = errors.Join(err, stop())
	}()
	if err := d.connectAll(); err != nil {
		return err
	}
	if o.Watch != "" {
		if err := d.watch(ctx, o.Watch); err != nil {
			return err
		}
	}
	story := seed.New(seed.Config{Apps: d.app, Admin: client.New(d.conns[natsconf.PrincipalAdmin].nc),
		Clock: d.clock, Log: d.node.Log(), Out: o.Out})
	if err := story.Play(ctx); err != nil {
		return err
	}
	return d.refusals(ctx, story)
}

// start generates the identity configuration of the seed's apps into dir
// and starts the node under it.
func (d *demo) start(ctx context.Context, o Options, dir string) (stop func() error, err error) {
	if d.cfg, err = natsconf.Generate(seed.Apps, seed.SampleUsers, nil); err != nil {
		return nil, err
	}
	if err := d.cfg.WriteDir(dir, o.Listen); err != nil {
		return nil, err
	}
	d.node, err = node.Start(ctx, node.Options{
		Dir: o.Dir, Listen: o.Listen, NatsConfig: filepath.Join(dir, natsconf.ConfFile), Logger: o.Logger,
		Service: service.Options{Clock: d.clock, PolicyCheckInterval: 20 * time.Millisecond, CloseGrace: 100 * time.Millisecond},
	})
	if err != nil {
		return nil, err
	}
	if stop, err = d.node.Background(ctx); err != nil {
		return nil, err
	}
	fmt.Fprintf(d.out, "crosstalk demo: embedded NATS at %s, data in %s\n", d.node.Conn().ConnectedUrl(), o.Dir)
	fmt.Fprintf(d.out, "identities enforced by a generated configuration (crosstalk auth init): "+
		"%d principals with random passwords; the apps %v and the admin each act on a NATS connection of its own\n",
		len(d.cfg.Credentials), seed.Apps)
	return stop, nil
}

// connectAll connects every app, the admin and Messenger's end user.
func (d *demo) connectAll() error {
	for _, p := range append([]string{natsconf.PrincipalAdmin, bob}, seed.Apps...) {
		if err := d.connect(p); err != nil {
			return err
		}
	}
	return nil
}

// connect connects as principal, under a connection name that claims to be
// the admin: identity never comes from the name.
func (d *demo) connect(principal string) error {
	cr, err := d.cfg.Lookup(principal)
	if err != nil {
		return err
	}
	c := &conn{errs: make(chan error, 16)}
	c.nc, err = node.ConnectWith(d.node.Conn().ConnectedUrl(), "ADMIN/admin",
		node.CredentialsOf(cr),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case c.errs <- err:
			default:
			}
		}))
	if err != nil {
		return fmt.Errorf("connect as %s: %w", principal, err)
	}
	d.conns[principal] = c
	return nil
}

// app is the client of an app's principal, through which the story acts
// as that app's accounts.
func (d *demo) app(a events.App) *client.Client {
	if c, ok := d.conns[string(a)]; ok {
		return client.New(c.nc)
	}
	return client.New(d.conns[natsconf.PrincipalAdmin].nc) // an app the configuration lacks: refused by NATS
}

// closeConns closes every principal's connection; the story has had every
// reply it waits for.
func (d *demo) closeConns() {
	for _, c := range d.conns {
		c.nc.Close()
	}
}
