package authsetup

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/authcallout"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/seed"
	"github.com/crosstalk-dev/crosstalk/natsconf"
	"github.com/nats-io/nkeys"
)

// InitFlags are the flags of 'crosstalk auth init'.
type InitFlags struct {
	Dir     string
	Apps    []string
	Listen  string
	TLSCert string
	TLSKey  string
	TLSCA   string
	Callout bool
	Limits  natsconf.Limits
}

// Init writes the configuration f asks for into f.Dir and prints the
// nats contexts of each principal and how to serve under it.
func Init(f InitFlags, stdout io.Writer) error {
	c, err := natsconf.Generate(f.Apps, seed.SampleUsers, nil)
	if err != nil {
		return err
	}
	c.TLS = natsconf.TLSFiles{Cert: absPath(f.TLSCert), Key: absPath(f.TLSKey)}
	var issuer nkeys.KeyPair
	if f.Callout {
		if c, issuer, err = withCallout(c); err != nil {
			return err
		}
	}
	c.Limits = f.Limits
	if err := c.WriteDir(f.Dir, f.Listen); err != nil {
		return err
	}
	if issuer != nil {
		if err := authcallout.WriteKeyFiles(f.Dir, issuer, f.Apps); err != nil {
			return err
		}
	}
	conf := filepath.Join(f.Dir, natsconf.ConfFile)
	fmt.Fprintf(stdout, "wrote %s and %s (mode 0600)\n\n", conf, filepath.Join(f.Dir, natsconf.CredentialsFile))
	fmt.Fprintf(stdout, "# the nats CLI as each principal:\n")
	for _, line := range c.ContextCommands(c.URL(f.Listen), absPath(f.TLSCA)) {
		fmt.Fprintln(stdout, line)
	}
	fmt.Fprintf(stdout, "\n# serve under it:\ncrosstalk serve --nats-config %s\n", conf)
	if f.Callout {
		printCalloutUsage(stdout, f.Dir, c.URL(f.Listen), f.Apps[0])
	}
	return nil
}

// withCallout makes c's end users come through an auth callout signing
// with a new issuer key.
func withCallout(c natsconf.Config) (natsconf.Config, nkeys.KeyPair, error) {
	issuer, err := nkeys.CreateAccount()
	if err != nil {
		return c, nil, err
	}
	pub, err := issuer.PublicKey()
	if err != nil {
		return c, nil, err
	}
	c, err = c.WithCallout(pub, nil)
	return c, issuer, err
}

// printCalloutUsage says how to run the callout and try it as a device of
// app.
func printCalloutUsage(stdout io.Writer, dir, url, app string) {
	seed := filepath.Join(dir, authcallout.AppSeedFile(app))
	fmt.Fprintf(stdout, "\n# end users come through the auth callout; run it next to the server:\n")
	fmt.Fprintf(stdout, "crosstalk auth callout --dir %s --nats-url %s\n", dir, url)
	fmt.Fprintf(stdout, "\n# each app's backend mints device tokens with its seed (%s, ...); by hand:\n", seed)
	fmt.Fprintf(stdout, "nats --server %s --token \"$(crosstalk auth token --app %s --handle alice --seed %s)\" \\\n"+
		"  --inbox-prefix %s sub %s\n", url, app, seed, authcallout.InboxPrefix(events.Account(app+":alice")),
		api.FeedSubject(app+":alice"))
}

// absPath makes a file named on the command line absolute, so that the
// configuration and the contexts find it from any directory; "" stays "".
func absPath(path string) string {
	if path == "" {
		return ""
	}
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}
