package crashtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/internal/testkit"
)

// clusterReadyTimeout bounds how long startNATSCluster waits for
// JetStream to elect a meta leader.
const clusterReadyTimeout = 60 * time.Second

// natsServerBuild is the nats-server binary, built once per run of the
// test binary into a directory TestMain removes.
var natsServerBuild build

// buildNATSServer builds the nats-server of the module version this module
// depends on (go.mod), so the cluster runs the server crosstalk embeds,
// and returns its path. It is built once per run.
func buildNATSServer(t *testing.T) string {
	t.Helper()
	return natsServerBuild.get(t, "nats-server", "github.com/nats-io/nats-server/v2", "-ldflags=-s -w")
}

// build is a binary built once per run of the test binary.
type build struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// get builds pkg as name with the extra go build flags on its first call,
// and returns the binary's path.
func (b *build) get(t *testing.T, name, pkg string, flags ...string) string {
	t.Helper()
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "crosstalk-crashtest-"+name+"-"); b.err != nil {
			return
		}
		b.bin = filepath.Join(b.dir, name)
		args := append(append([]string{"build", "-o", b.bin}, flags...), pkg)
		cmd := exec.Command("go", args...)
		cmd.Dir = moduleDir(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.bin
}

// remove removes what get built.
func (b *build) remove() {
	if b.dir != "" {
		_ = os.RemoveAll(b.dir)
	}
}

// natsProcess is one nats-server child process of a cluster.
type natsProcess struct {
	name   string
	url    string
	cmd    *exec.Cmd
	out    *testkit.LockedBuffer
	exited chan struct{}
}

// startNATSCluster runs n nats-server processes clustered on loopback, each
// with its JetStream store in a t.TempDir, and waits until JetStream has a
// meta leader. The servers are killed when the test ends.
func startNATSCluster(t *testing.T, bin string, n int) []*natsProcess {
	t.Helper()
	ports := testkit.FreePorts(t, 2*n)
	routes := make([]string, n)
	for i := range n {
		routes[i] = fmt.Sprintf("nats://127.0.0.1:%d", ports[n+i])
	}
	servers := make([]*natsProcess, n)
	for i := range n {
		servers[i] = startNATSProcess(t, bin, fmt.Sprintf("crashtest-%d", i+1), ports[i], ports[n+i], routes)
	}
	waitForJetStream(t, servers)
	return servers
}

func startNATSProcess(t *testing.T, bin, name string, port, clusterPort int, routes []string) *natsProcess {
	t.Helper()
	cluster := fmt.Sprintf(`cluster {
  name: crashtest
  listen: "127.0.0.1:%d"
  routes: [%s]
}
`, clusterPort, strings.Join(routes, ", "))
	return runNATSProcess(t, bin, name, port, cluster)
}

// startNATSServer runs one nats-server process with JetStream, not
// clustered, and waits until JetStream answers. It is killed when the test
// ends.
func startNATSServer(t *testing.T, bin string) *natsProcess {
	t.Helper()
	p := runNATSProcess(t, bin, "crashtest-single", testkit.FreePorts(t, 1)[0], "")
	waitForJetStream(t, []*natsProcess{p})
	return p
}

// runNATSProcess runs nats-server with JetStream on port and its files in a
// t.TempDir; extra is more of its configuration (a cluster block).
func runNATSProcess(t *testing.T, bin, name string, port int, extra string) *natsProcess {
	t.Helper()
	dir := t.TempDir()
	conf := fmt.Sprintf(`server_name: %s
listen: "127.0.0.1:%d"
jetstream { store_dir: %q }
%s`, name, port, filepath.Join(dir, "jetstream"), extra)
	path := filepath.Join(dir, "nats-server.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &natsProcess{name: name, url: fmt.Sprintf("nats://127.0.0.1:%d", port), out: &testkit.LockedBuffer{},
		exited: make(chan struct{})}
	p.cmd = exec.Command(bin, "-c", path)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start nats-server %s: %v", name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { _ = p.Kill() })
	return p
}

// Kill kills the server with SIGKILL and waits until it is gone.
func (p *natsProcess) Kill() error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-p.exited:
		return nil
	case <-time.After(stopTimeout):
		return fmt.Errorf("nats-server %s survived SIGKILL", p.name)
	}
}

// waitForJetStream waits until every server answers a JetStream request,
// which needs the cluster's meta leader.
func waitForJetStream(t *testing.T, servers []*natsProcess) {
	t.Helper()
	deadline := time.Now().Add(clusterReadyTimeout)
	for _, s := range servers {
		for {
			err := jetStreamAnswers(s.url)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("nats-server %s: JetStream not ready after %s: %v\n%s", s.name, clusterReadyTimeout, err, tail(s.out.String()))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func jetStreamAnswers(url string) error {
	nc, err := nats.Connect(url)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = js.AccountInfo(ctx)
	return err
}

// clusterURLs is the servers' client URLs, comma-separated, as
// serve --nats-url takes them.
func clusterURLs(servers []*natsProcess) string {
	urls := make([]string, len(servers))
	for i, s := range servers {
		urls[i] = s.url
	}
	return strings.Join(urls, ",")
}

// moduleDir is the directory of this module's go.mod.
func moduleDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		t.Fatal("go env GOMOD: not inside a module")
	}
	return filepath.Dir(gomod)
}
