package node

import (
	"fmt"
	"os"

	"github.com/nats-io/jsm.go/natscontext"
	"github.com/nats-io/nats.go"
)

// EnvContext names the nats CLI context a command connects with when no
// --context is given, as it does for the nats CLI.
const EnvContext = "NATS_CONTEXT"

// natsContext loads the nats CLI context c names (its file under
// ~/.config/nats/context, as `nats context save` writes it), through the
// nats CLI's own package, so that every setting a context can hold (server,
// user and password, .creds, nkey, token, TLS) means here what it means to
// the nats CLI.
func (c Credentials) natsContext() (*natscontext.Context, error) {
	nctx, err := natscontext.New(c.Context, true)
	if err != nil {
		return nil, fmt.Errorf("nats context %q: %w (list them with 'nats context ls')", c.Context, err)
	}
	return nctx, nil
}

// withContext returns url, or the context's server when url is empty,
// and the context's options, before opts so that what was given
// explicitly wins.
func (c Credentials) withContext(url string, opts []nats.Option) (string, []nats.Option, error) {
	if c.Context == "" {
		return url, opts, nil
	}
	nctx, err := c.natsContext()
	if err != nil {
		return "", nil, err
	}
	ctxOpts, err := nctx.NATSOptions()
	if err != nil {
		return "", nil, fmt.Errorf("nats context %q: %w", c.Context, err)
	}
	if url == "" {
		url = nctx.ServerURL()
	}
	return url, append(ctxOpts, opts...), nil
}

// ResolveURL is where a client command connects: url when given, else
// $NATS_URL, else the server of c's nats context, else "" (the caller's
// default: a data directory, or nats.DefaultURL).
func ResolveURL(url string, c Credentials) (string, error) {
	if url != "" {
		return url, nil
	}
	if u := os.Getenv("NATS_URL"); u != "" {
		return u, nil
	}
	if c.Context == "" {
		return "", nil
	}
	nctx, err := c.natsContext()
	if err != nil {
		return "", err
	}
	return nctx.ServerURL(), nil
}
