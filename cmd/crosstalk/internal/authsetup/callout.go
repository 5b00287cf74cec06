package authsetup

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/crosstalk-dev/crosstalk/authcallout"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/natsconf"
	"github.com/crosstalk-dev/crosstalk/node"
	"github.com/nats-io/nkeys"
)

// CalloutFlags are the flags of 'crosstalk auth callout'.
type CalloutFlags struct {
	Dir, Keys, IssuerSeed string
	NatsURL               string
	Creds                 node.Credentials
	Opts                  authcallout.Options
	Debug                 bool
}

// Level is the level of the callout's log: --debug logs every user issued,
// not only the refusals.
func (f *CalloutFlags) Level() slog.Level {
	if f.Debug {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// Run reads the keys and the issuer, connects as the callout's user and
// answers until the command's context ends.
func (f *CalloutFlags) Run(ctx context.Context, logger *slog.Logger) error {
	if err := f.fromDir(); err != nil {
		return err
	}
	if f.Keys == "" || f.IssuerSeed == "" {
		return fmt.Errorf("give --dir, or --keys and --issuer-seed")
	}
	keys, err := authcallout.ReadKeys(f.Keys)
	if err != nil {
		return err
	}
	issuer, err := authcallout.ReadSeed(f.IssuerSeed)
	if err != nil {
		return err
	}
	nc, err := node.ConnectWith(f.NatsURL, "crosstalk auth callout", f.Creds)
	if err != nil {
		return err
	}
	defer nc.Close()
	o := f.Opts
	o.Conn, o.Issuer, o.Keys, o.Logger = nc, issuer, keys, logger
	o.Ready = func() {
		o.Logger.Info("auth callout ready", slog.String("url", nc.ConnectedUrl()), slog.Int("apps", len(keys)))
	}
	return authcallout.Run(ctx, o)
}

// fromDir fills the flags not given from --dir.
func (f *CalloutFlags) fromDir() error {
	if f.Dir == "" {
		return nil
	}
	if f.Keys == "" {
		f.Keys = filepath.Join(f.Dir, authcallout.KeysFile)
	}
	if f.IssuerSeed == "" {
		f.IssuerSeed = filepath.Join(f.Dir, authcallout.IssuerSeedFile)
	}
	if !f.Creds.IsZero() {
		return nil
	}
	c, err := natsconf.ReadCredentials(filepath.Join(f.Dir, natsconf.CredentialsFile))
	if err != nil {
		return err
	}
	cr, err := c.Lookup(natsconf.PrincipalCallout)
	if err != nil {
		return fmt.Errorf("%s: %w (was it written with --callout?)", f.Dir, err)
	}
	f.Creds.User, f.Creds.Password = cr.User, cr.Password
	return nil
}

// PrintToken prints a device token for account signed with kp, valid for ttl.
func PrintToken(stdout io.Writer, kp nkeys.KeyPair, account events.Account, ttl time.Duration) error {
	tok, err := authcallout.Mint(kp, account, ttl, time.Now())
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}
