package node_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/client"
	"github.com/crosstalk-dev/crosstalk/internal/seed"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/natsconf"
	"github.com/crosstalk-dev/crosstalk/node"
	"github.com/crosstalk-dev/crosstalk/node/nodetest"
)

// Credentials anywhere are credentials (issue 21, finding 5): a user and
// password in the URL, a token in it, or the environment's, put a node in
// identity mode as --user or --creds do.
func TestCredentialsAnywhereLeaveDevelopmentMode(t *testing.T) {
	t.Setenv(node.EnvUser, "")
	t.Setenv(node.EnvPassword, "")
	t.Setenv(node.EnvCreds, "")
	for _, o := range []node.Options{
		{NatsURL: "nats://crosstalk:secret@127.0.0.1:4222"},
		{NatsURL: "nats://s3cr3t-token@127.0.0.1:4222"},
		{NatsURL: "nats://127.0.0.1:4222, nats://crosstalk:secret@127.0.0.1:4223"},
		{NatsURL: "crosstalk:secret@127.0.0.1:4222"},
		{Credentials: node.Credentials{User: "crosstalk"}},
	} {
		if o.DevelopmentMode() {
			t.Errorf("%+v: development mode, want identities enforced", o)
		}
	}
	if o := (node.Options{NatsURL: "nats://127.0.0.1:4222"}); !o.DevelopmentMode() {
		t.Error("a URL without credentials is not development mode")
	}
	for env, value := range map[string]string{node.EnvUser: "crosstalk", node.EnvCreds: "/x.creds"} {
		t.Setenv(env, value)
		if (node.Options{NatsURL: "nats://127.0.0.1:4222"}).DevelopmentMode() {
			t.Errorf("$%s set: development mode, want identities enforced", env)
		}
		t.Setenv(env, "")
	}
}

// A node given the service's password in --nats-url, against a server run
// from a generated configuration, checks identities: an end user naming
// another actor is refused. Before, the URL's credentials ran the node in
// development mode and the forged actor was believed.
func TestURLCredentialsEnforceIdentities(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	opts, c := nodetest.IdentityOptions(t)
	conf := opts.NatsConfig
	srv := startConfigured(t, conf, filepath.Join(t.TempDir(), "js"))
	svc, err := natsconf.ServiceCredential(conf)
	if err != nil {
		t.Fatal(err)
	}
	port := srv.Addr().String()[strings.LastIndex(srv.Addr().String(), ":")+1:]
	n := runNode(ctx, t, node.Options{Dir: opts.Dir, Logger: testkit.Quiet(),
		NatsURL: fmt.Sprintf("nats://%s:%s@127.0.0.1:%s", svc.User, svc.Password, port)})
	alice, _ := connectAs(t, n.Conn().ConnectedUrl(), c, string(seed.Alice))
	_, err = client.New(alice).Command(ctx, "instagram", api.ActionPresenceSet,
		map[string]any{"command_id": "0b9d3f0e-6a51-4c8e-9d0c-2f1f1d3b7a10", "actor": "instagram:carol", "status": "idle"})
	if client.CodeOf(err) != api.CodeForbidden {
		t.Fatalf("instagram:alice acting as instagram:carol: %v, want 403 %s", err, api.CodeForbidden)
	}
}

// startConfigured runs a nats-server from the configuration file conf, on a
// random port, with its JetStream store in js.
func startConfigured(t *testing.T, conf, js string) *server.Server {
	t.Helper()
	opts, err := server.ProcessConfigFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	opts.Port, opts.StoreDir, opts.NoLog, opts.NoSigs = server.RANDOM_PORT, js, true, true
	return startServer(t, opts)
}

func startServer(t *testing.T, opts *server.Options) *server.Server {
	t.Helper()
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	return srv
}

// Development mode refuses a NATS server beyond loopback, and one that
// requires authentication even if it lets an anonymous client in (a
// no_auth_user), unless Insecure.
func TestDevelopmentModeRefusesForeignOrAuthenticatingServers(t *testing.T) {
	ctx := context.Background()
	_, err := node.Start(ctx, node.Options{Dir: t.TempDir(), Logger: testkit.Quiet(), NatsURL: "nats://192.0.2.1:4222"})
	if !errors.Is(err, node.ErrNotLoopback) {
		t.Errorf("a NATS server beyond loopback in development mode: %v, want ErrNotLoopback", err)
	}
	srv := startServer(t, &server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true,
		StoreDir: t.TempDir(), NoLog: true, NoSigs: true, NoAuthUser: "anonymous",
		Users: []*server.User{{Username: "anonymous", Password: "x"}, {Username: "crosstalk", Password: "y"}}})
	url := srv.ClientURL()
	_, err = node.Start(ctx, node.Options{Dir: t.TempDir(), Logger: testkit.Quiet(), NatsURL: url})
	if !errors.Is(err, node.ErrAuthRequired) {
		t.Errorf("a server that requires authentication in development mode: %v, want ErrAuthRequired", err)
	}
	n, err := node.Start(ctx, node.Options{Dir: t.TempDir(), Logger: testkit.Quiet(), NatsURL: url, Insecure: true})
	if err != nil {
		t.Fatalf("--insecure: %v", err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
}
