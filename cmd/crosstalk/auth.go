package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/crosstalk-dev/crosstalk/internal/seed"
	"github.com/crosstalk-dev/crosstalk/natsconf"
)

// authInitFlags are the flags of 'crosstalk auth init'.
type authInitFlags struct {
	dir     string
	apps    []string
	listen  string
	tlsCert string
	tlsKey  string
	tlsCA   string
}

func newAuthCommand(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "auth",
		Short: "Set up who may do what: NATS accounts, users and permissions",
	}
	cmd.AddCommand(newAuthInitCommand(stdout))
	return cmd
}

func newAuthInitCommand(stdout io.Writer) *cobra.Command {
	var f authInitFlags
	cmd := &cobra.Command{
		Use:   "init --dir DIR",
		Short: "Write a nats-server configuration with an account per app, an admin and an auditor",
		Long:  authInitLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return authInit(f, stdout)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dir, "dir", "", "directory to write nats.conf and credentials.json into (created 0700 if missing)")
	fl.StringSliceVar(&f.apps, "apps", seed.Apps, "apps to make an account for, comma-separated")
	fl.StringVar(&f.listen, "listen", "127.0.0.1:4222", "client address the configuration listens on (host:port)")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "the server's TLS certificate (PEM), written into a tls block")
	fl.StringVar(&f.tlsKey, "tls-key", "", "the key of --tls-cert (PEM)")
	fl.StringVar(&f.tlsCA, "tls-ca", "", "the CA that signed --tls-cert, for the nats contexts")
	_ = cmd.MarkFlagRequired("dir")
	cmd.MarkFlagsRequiredTogether("tls-cert", "tls-key")
	return cmd
}

func authInit(f authInitFlags, stdout io.Writer) error {
	c, err := natsconf.Generate(f.apps, seed.SampleUsers, nil)
	if err != nil {
		return err
	}
	c.TLS = natsconf.TLSFiles{Cert: absPath(f.tlsCert), Key: absPath(f.tlsKey)}
	if err := c.WriteDir(f.dir, f.listen); err != nil {
		return err
	}
	conf := filepath.Join(f.dir, natsconf.ConfFile)
	fmt.Fprintf(stdout, "wrote %s and %s (mode 0600)\n\n", conf, filepath.Join(f.dir, natsconf.CredentialsFile))
	fmt.Fprintf(stdout, "# the nats CLI as each principal:\n")
	for _, line := range c.ContextCommands(c.URL(f.listen), absPath(f.tlsCA)) {
		fmt.Fprintln(stdout, line)
	}
	fmt.Fprintf(stdout, "\n# serve under it:\ncrosstalk serve --nats-config %s\n", conf)
	return nil
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

// authInitLong is the --help of AuthInit.
const authInitLong = `init writes, with random secrets, files of mode 0600:

  DIR/nats.conf          a standard nats-server configuration: the CROSSTALK
                         account (the service), the ADMIN account, the
                         AUDIT account (the auditor, reading mirrors of the
                         streams that serve makes), and one account per
                         app with its backend
                         and one sample end user, with the exports, imports
                         and permissions that make NATS refuse what it can
  DIR/credentials.json   one entry per principal: principal, kind, account,
                         user, password

and prints the 'nats context save' lines that let the stock nats CLI act as
each principal. It refuses to overwrite an existing configuration: to rotate
the secrets, write a new directory and reload (docs/security.md).

With --tls-cert and --tls-key the configuration gets a tls block, and the
contexts check the server's certificate against --tls-ca.

Serve with it: crosstalk serve --nats-config DIR/nats.conf`
