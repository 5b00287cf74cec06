package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"text/tabwriter"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/crosstalk-dev/crosstalk/backup"
	"github.com/crosstalk-dev/crosstalk/cmd/crosstalk/internal/progress"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/node"
)

func newBackupCommand(stdout, stderr io.Writer) *cobra.Command {
	var url, keyFile, dir string
	var creds node.Credentials
	o := backup.Options{Logger: newLogger(stderr, slog.LevelWarn)}
	cmd := &cobra.Command{
		Use:   "backup DIR",
		Short: "Back up every stream and bucket crosstalk keeps in JetStream into DIR, online",
		Long:  backupLong,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Dir = args[0]
			if cmd.Flags().Changed("data") && keyFile == "" {
				keyFile = node.Layout{Dir: dir}.SigningKey()
			}
			if keyFile != "" {
				pub, err := readPublicKey(keyFile)
				if err != nil {
					return err
				}
				o.SigningKey = pub
			}
			return runBackup(cmd.Context(), url, creds, o, stdout, stderr)
		},
	}
	f := cmd.Flags()
	addServiceFlags(f, &url, &creds)
	f.StringVar(&keyFile, "signing-key", "", "put the public half of this signing key (as given to 'serve --signing-key') in the backup, for auditors")
	f.StringVar(&dir, "data", "", "put the public half of DIR/signing.key, the signing key of the node on this data directory, in the backup")
	f.DurationVar(&o.Timeout, "timeout", backup.DefaultTimeout, "bound on each JetStream API request")
	cmd.MarkFlagsMutuallyExclusive("data", "signing-key")
	return cmd
}

// readPublicKey reads the public half of the signing key in path.
func readPublicKey(path string) (*backup.PublicKey, error) {
	signer, err := node.ReadSigningKey(path)
	if err != nil {
		return nil, err
	}
	pem, err := events.MarshalPublicKey(signer.PublicKey())
	if err != nil {
		return nil, err
	}
	return &backup.PublicKey{KeyID: signer.KeyID(), PEM: string(pem)}, nil
}

func runBackup(ctx context.Context, url string, creds node.Credentials, o backup.Options, stdout, stderr io.Writer) error {
	c, err := connectRefusable(url, "crosstalk backup", creds)
	if err != nil {
		return err
	}
	defer c.nc.Close()
	bar := progress.NewBytes(stderr, "backup", "backed up")
	o.Progress = bar.Show
	m, err := backup.Backup(ctx, c.nc, o)
	bar.Finish(err == nil)
	if err != nil {
		return c.refused(err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STREAM\tROLE\tMSGS\tBYTES\tLAST SEQ\tREPLICAS")
	for _, s := range m.Streams {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\n", s.Name, s.Role, s.State.Msgs, s.State.Bytes, s.State.LastSeq, s.Config.Replicas)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, l := range m.LeftOut {
		fmt.Fprintf(stdout, "left out %s: %s\n", l.Name, l.Why)
	}
	fmt.Fprintf(stdout, "log checksum: sha256 %s over %d events\n", m.Checksum.Hex, m.Checksum.Events)
	if m.SigningKey != nil {
		fmt.Fprintf(stdout, "signing key: %s (public half in %s)\n", m.SigningKey.KeyID, backup.PublicKeyFile)
	}
	fmt.Fprintf(stdout, "master key: %s\n", m.MasterKey)
	return nil
}

func newRestoreCommand(stdout, stderr io.Writer) *cobra.Command {
	var url string
	var creds node.Credentials
	o := backup.RestoreOptions{Logger: newLogger(stderr, slog.LevelWarn)}
	cmd := &cobra.Command{
		Use:   "restore DIR",
		Short: "Restore a backup DIR into a NATS server that has none of crosstalk's streams",
		Long:  restoreLong,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Dir = args[0]
			return runRestore(cmd.Context(), url, creds, o, stdout, stderr)
		},
	}
	f := cmd.Flags()
	addServiceFlags(f, &url, &creds)
	f.IntVar(&o.Replicas, "replicas", 0, "replicas of every restored stream (default: 1 on a server that is not in a cluster, else each stream's in the backup)")
	f.DurationVar(&o.Timeout, "timeout", backup.DefaultTimeout, "bound on each JetStream API request")
	return cmd
}

func runRestore(ctx context.Context, url string, creds node.Credentials, o backup.RestoreOptions, stdout, stderr io.Writer) error {
	c, err := connectRefusable(url, "crosstalk restore", creds)
	if err != nil {
		return err
	}
	defer c.nc.Close()
	bar := progress.NewBytes(stderr, "restore", "restored")
	o.Progress = bar.Show
	r, err := backup.Restore(ctx, c.nc, o)
	bar.Finish(err == nil)
	if err != nil {
		return c.refused(err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STREAM\tROLE\tMSGS\tREPLICAS\tIN THE BACKUP")
	for _, s := range r.Manifest.Streams {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\n", s.Name, s.Role, s.State.Msgs, r.Replicas[s.Name], s.Config.Replicas)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "log checksum: sha256 %s over %d events, as at the backup (%s)\n",
		r.Checksum.Hex, r.Checksum.Events, r.Manifest.Time.Format("2006-01-02T15:04:05Z"))
	return nil
}

// refusable is a connection that closes at a permission violation: the
// snapshot API's requests (jsm.go's) take no context and would otherwise
// wait out their timeout for a reply that never comes.
type refusable struct {
	nc        *nats.Conn
	violation atomic.Pointer[error]
	who       string
}

func connectRefusable(url, name string, creds node.Credentials) (*refusable, error) {
	r := &refusable{who: creds.Who()}
	nc, err := node.ConnectWith(url, name, creds, nats.ErrorHandler(func(nc *nats.Conn, _ *nats.Subscription, err error) {
		if errors.Is(err, nats.ErrPermissionViolation) {
			r.violation.CompareAndSwap(nil, &err)
			nc.Close()
		}
	}))
	r.nc = nc
	return r, err
}

// refused is the permission violation that closed the connection, if one
// did, naming who was refused; else err.
func (r *refusable) refused(err error) error {
	if v := r.violation.Load(); v != nil {
		return fmt.Errorf("%w (connected %s): these credentials may not use crosstalk's JetStream API", *v, r.who)
	}
	return err
}
