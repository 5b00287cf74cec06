package headerguard

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"time"

	"github.com/nats-io/nats.go"
)

// Dialer is a nats.CustomDialer whose connections are guarded. Because the
// guard must read the protocol in clear, the Dialer also does the TLS
// upgrade nats.go would do (it tells nats.go to skip its own with
// SkipTLSHandshake): when the server's INFO requires TLS, or TLS is set, it
// upgrades after the INFO line as nats-server expects. A server configured
// with handshake_first is not supported.
type Dialer struct {
	// TLS configures the upgrade. Nil means a default configuration (the
	// system's roots) when the server requires TLS; when not nil the
	// connection is upgraded even if the server only offers it.
	TLS *tls.Config
	// Timeout bounds the dial, the INFO line and the TLS handshake
	// (default 2s, nats.go's connect timeout).
	Timeout time.Duration
}

// serverInfo is the part of the INFO line the dialer reads.
type serverInfo struct {
	TLSRequired bool `json:"tls_required"`
}

// Dial connects to address and returns a guarded connection.
func (d *Dialer) Dial(network, address string) (net.Conn, error) {
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = nats.DefaultTimeout
	}
	raw, err := (&net.Dialer{Timeout: timeout}).Dial(network, address)
	if err != nil {
		return nil, err
	}
	c, err := d.upgrade(raw, address, time.Now().Add(timeout))
	if err != nil {
		raw.Close()
		return nil, err
	}
	return c, nil
}

// upgrade reads the server's INFO line, does the TLS handshake if it asks
// for one, and returns the guarded connection that replays the INFO line
// to nats.go first.
func (d *Dialer) upgrade(raw net.Conn, address string, deadline time.Time) (net.Conn, error) {
	if err := raw.SetDeadline(deadline); err != nil {
		return nil, err
	}
	// The server says nothing after INFO until the client speaks, so the
	// reader holds no byte past that line.
	info, err := bufio.NewReaderSize(raw, 4096).ReadSlice('\n')
	if err != nil {
		return nil, fmt.Errorf("headerguard: read INFO from %s: %w", address, err)
	}
	var si serverInfo
	if len(info) > 5 {
		_ = json.Unmarshal(info[5:], &si) // an INFO we cannot read is nats.go's to refuse
	}
	var c net.Conn = raw
	if si.TLSRequired || d.TLS != nil {
		if c, err = d.handshake(raw, address); err != nil {
			return nil, err
		}
	}
	if err := raw.SetDeadline(time.Time{}); err != nil {
		return nil, err
	}
	return newConn(c, info), nil
}

func (d *Dialer) handshake(raw net.Conn, address string) (net.Conn, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if d.TLS != nil {
		cfg = d.TLS.Clone()
	}
	if cfg.ServerName == "" {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return nil, err
		}
		cfg.ServerName = host
	}
	tc := tls.Client(raw, cfg)
	if err := tc.HandshakeContext(context.Background()); err != nil {
		return nil, fmt.Errorf("headerguard: TLS handshake with %s: %w", address, err)
	}
	return tc, nil
}

// SkipTLSHandshake tells nats.go that Dial did the TLS upgrade already.
func (d *Dialer) SkipTLSHandshake() bool { return true }

// Option makes a nats.go connection dial through d.
func Option(d *Dialer) nats.Option { return nats.SetCustomDialer(d) }

// Guarded reports whether nc reads through a Dialer: only then may its
// reader trust a header that nats-server writes.
func Guarded(nc *nats.Conn) bool {
	_, ok := nc.Opts.CustomDialer.(*Dialer)
	return ok
}
