package node_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/internal/seed"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/natsconf"
	"github.com/crosstalk-dev/crosstalk/node"
)

// writeCerts writes a CA and a server certificate for 127.0.0.1 signed by
// it into dir, and returns the files.
func writeCerts(t *testing.T, dir string) (ca, cert, key string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "crosstalk test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caTmpl, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, cert, key = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem")
	writePEM(t, ca, "CERTIFICATE", caDER)
	writePEM(t, cert, "CERTIFICATE", srvDER)
	writePEM(t, key, "EC PRIVATE KEY", keyDER)
	return ca, cert, key
}

func writePEM(t *testing.T, path, kind string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A node under a generated configuration with a tls block serves over TLS:
// it connects to its own server with the CA, as its service user found in
// the file; a client with the CA is served, one without it is refused.
func TestNodeUnderConfigurationWithTLS(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ca, cert, key := writeCerts(t, dir)
	c, err := natsconf.Generate(seed.Apps, seed.SampleUsers, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.TLS = natsconf.TLSFiles{Cert: cert, Key: key}
	if err := c.WriteDir(filepath.Join(dir, "auth"), "127.0.0.1:4222"); err != nil {
		t.Fatal(err)
	}
	n := runNode(ctx, t, node.Options{
		Dir: filepath.Join(dir, "data"), Listen: "127.0.0.1:0", Logger: testkit.Quiet(),
		NatsConfig: filepath.Join(dir, "auth", natsconf.ConfFile), Credentials: node.Credentials{TLSCA: ca},
	})
	url := n.Conn().ConnectedUrl()
	app, err := c.Lookup("instagram")
	if err != nil {
		t.Fatal(err)
	}
	creds := node.CredentialsOf(app)
	if nc, err := node.ConnectWith(url, "without the CA", creds); err == nil {
		nc.Close()
		t.Fatal("a client that cannot check the server's certificate connected")
	}
	creds.TLSCA = ca
	nc, err := node.ConnectWith(url, "with the CA", creds)
	if err != nil {
		t.Fatalf("connect over TLS with the CA: %v", err)
	}
	defer nc.Close()
	if !nc.TLSRequired() {
		t.Error("the connection is not over TLS")
	}
	_, err = client.New(nc).Command(ctx, "instagram", "conversation.start", map[string]any{
		"command_id": uuid.NewString(), "actor": "instagram:alice", "participants": []string{"instagram:bob"},
	})
	if err != nil {
		t.Errorf("a command over TLS: %v", err)
	}
}

// Options that contradict each other are refused before anything starts.
func TestStartRefusesConflictingIdentityOptions(t *testing.T) {
	for _, o := range []node.Options{
		{NatsConfig: "nats.conf", NatsURL: "nats://127.0.0.1:4222"},
		{Credentials: node.Credentials{CredsFile: "x.creds", User: "u"}},
		{Listen: "0.0.0.0:0"},
	} {
		o.Dir, o.Logger = t.TempDir(), testkit.Quiet()
		_, err := node.Start(context.Background(), o)
		if !errors.Is(err, node.ErrConfigWithURL) && !errors.Is(err, node.ErrCredentials) && !errors.Is(err, node.ErrNotLoopback) {
			t.Errorf("%+v: %v, want a refusal", o, err)
		}
	}
}

// A history written in development mode is refused under an identity
// configuration, and the other way round: nats-server keeps each account's
// streams apart, so either start would begin an empty history beside it.
func TestStartRefusesHistoryOfAnotherAccount(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c, err := natsconf.Generate(seed.Apps, seed.SampleUsers, nil)
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "auth", natsconf.ConfFile)
	if err := c.WriteDir(filepath.Join(dir, "auth"), "127.0.0.1:4222"); err != nil {
		t.Fatal(err)
	}
	for _, first := range []string{"", conf} {
		data := filepath.Join(dir, "data-"+filepath.Base(first))
		n, err := node.Start(ctx, node.Options{Dir: data, Listen: "127.0.0.1:0", Logger: testkit.Quiet(), NatsConfig: first})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
		second := map[string]string{"": conf, conf: ""}[first]
		_, err = node.Start(ctx, node.Options{Dir: data, Listen: "127.0.0.1:0", Logger: testkit.Quiet(), NatsConfig: second})
		if !errors.Is(err, node.ErrOtherAccount) {
			t.Errorf("written with config %q, started with %q: %v, want ErrOtherAccount", first, second, err)
		}
		n, err = node.Start(ctx, node.Options{Dir: data, Listen: "127.0.0.1:0", Logger: testkit.Quiet(), NatsConfig: first})
		if err != nil {
			t.Fatalf("the same mode again: %v", err)
		}
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
