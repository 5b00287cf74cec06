package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/node"
)

// The demo keeps its data with --data; the audit then proves that history
// offline, and again online, as the auditor, against a serve on the same
// data under a configuration of its own, which it must not open behind
// serve's back.
func TestAuditTheDemo(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"demo", "--data", dir}, &out, &out); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}

	verify := auditRun(t, "audit", "verify", "--data", dir)
	for _, want := range []string{"breaks: 0", "views: checked up to their checkpoint"} {
		if !strings.Contains(verify, want) {
			t.Errorf("audit verify lacks %q:\n%s", want, verify)
		}
	}
	var rep audit.Report
	if err := json.Unmarshal([]byte(auditRun(t, "audit", "verify", "--data", dir, "--json")), &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Events == 0 || rep.ViewsChecked != rep.Events || rep.Subjects < 4 {
		t.Fatalf("verify --json: %+v", rep)
	}

	first := auditRun(t, "audit", "checksum", "--data", dir)
	if second := auditRun(t, "audit", "checksum", "--data", dir); first != second || !strings.Contains(first, "sha256: ") {
		t.Fatalf("two checksums of the same data differ:\n%s\n%s", first, second)
	}
	var sum audit.Sum
	if err := json.Unmarshal([]byte(auditRun(t, "audit", "checksum", "--data", dir, "--until-seq", "3", "--json")), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Events != 3 || sum.UntilSeq != 3 || len(sum.Hex) != 64 || strings.Contains(first, sum.Hex) {
		t.Fatalf("checksum --until-seq 3: %+v", sum)
	}

	pub := auditPublicKey(t, dir)
	signed := auditRun(t, "audit", "verify", "--data", dir, "--public-key", pub, "--signed-from", "1")
	if want := fmt.Sprintf("signatures: %d verified", rep.Events); !strings.Contains(signed, want) || !strings.Contains(signed, "breaks: 0") {
		t.Errorf("verify --public-key lacks %q and breaks: 0:\n%s", want, signed)
	}
	if !strings.Contains(verify, "signatures: not checked") {
		t.Errorf("verify without --public-key must say signatures were not checked:\n%s", verify)
	}

	t.Run("online, beside serve", func(t *testing.T) { auditBesideServe(t, dir, first, pub) })
	t.Run("a well-formed forged event is unsigned", func(t *testing.T) { auditForgedWellFormed(t, dir, pub) })
	t.Run("a forged event is a break", func(t *testing.T) { auditForged(t, dir) })
}

// auditPublicKey writes the public key of the node on dir to a file, as
// 'crosstalk audit public-key --data DIR > FILE' does, and returns its path.
func auditPublicKey(t *testing.T, dir string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"audit", "public-key", "--data", dir}, &out, &errOut); err != nil {
		t.Fatalf("audit public-key: %v\n%s", err, errOut.String())
	}
	signer, err := node.ReadSigningKey(node.Layout{Dir: dir}.SigningKey())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "-----BEGIN PUBLIC KEY-----") || errOut.String() != "key id: "+signer.KeyID()+"\n" {
		t.Fatalf("audit public-key printed:\n%s\n%s", out.String(), errOut.String())
	}
	pub := filepath.Join(t.TempDir(), "crosstalk.pub")
	if err := os.WriteFile(pub, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return pub
}

// auditForgedWellFormed publishes, behind the stopped node's back, a copy
// of its last event chained correctly after it: only the signature check
// names it.
func auditForgedWellFormed(t *testing.T, dir, pub string) {
	ctx := context.Background()
	s, err := node.OpenStopped(ctx, node.StoppedOptions{Dir: dir, Logger: newLogger(&bytes.Buffer{}, 0)})
	if err != nil {
		t.Fatal(err)
	}
	seq, subject, err := forgeAfterLast(ctx, s)
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	auditRun(t, "audit", "verify", "--data", dir)
	var out bytes.Buffer
	err = run(ctx, []string{"audit", "verify", "--data", dir, "--public-key", pub}, &out, &out)
	if want := fmt.Sprintf("seq %d  %s  unsigned", seq, subject); err == nil || !strings.Contains(out.String(), want) ||
		!strings.Contains(out.String(), "breaks: 1") {
		t.Fatalf("verify --public-key must fail on the forged event (%q): %v\n%s", want, err, out.String())
	}
}

// forgeAfterLast publishes a copy of the stream's last event as the next
// event on its subject, with the right prevhash and streamversion.
func forgeAfterLast(ctx context.Context, s *node.Stopped) (uint64, string, error) {
	last, err := s.Log().LastSeq(ctx)
	if err != nil {
		return 0, "", err
	}
	m, err := s.Log().Get(ctx, last)
	if err != nil {
		return 0, "", err
	}
	e, err := events.Decode(m.Data)
	if err != nil {
		return 0, "", err
	}
	e.ID, e.StreamVersion, e.PrevHash = events.NewID(), e.StreamVersion+1, events.Hash(m.Data)
	body, err := events.Encode(e)
	if err != nil {
		return 0, "", err
	}
	js, err := jetstream.New(s.Conn())
	if err != nil {
		return 0, "", err
	}
	ack, err := js.Publish(ctx, m.Subject, body, jetstream.WithExpectLastSequencePerSubject(m.Seq))
	if err != nil {
		return 0, "", err
	}
	return ack.Sequence, m.Subject, nil
}

// auditForged publishes junk straight into the demo's stream, as a writer
// bypassing crosstalk could, and expects verify to fail on it.
func auditForged(t *testing.T, dir string) {
	s, err := node.OpenStopped(context.Background(), node.StoppedOptions{Dir: dir, Logger: newLogger(&bytes.Buffer{}, 0)})
	if err != nil {
		t.Fatal(err)
	}
	var js jetstream.JetStream
	if js, err = jetstream.New(s.Conn()); err == nil {
		_, err = js.Publish(context.Background(), "crosstalk.events.conv.forged", []byte("not an event"))
	}
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = run(context.Background(), []string{"audit", "verify", "--data", dir}, &out, &out)
	if err == nil || !strings.Contains(out.String(), "breaks: 1") ||
		!strings.Contains(out.String(), "crosstalk.events.conv.forged  undecodable") {
		t.Fatalf("verify of a forged stream must fail and name the break: %v\n%s", err, out.String())
	}
}

func auditBesideServe(t *testing.T, dir, offlineSum, pub string) {
	url, asAuditor, stop := serveConfiguredOn(t, dir)
	defer stop()

	var out bytes.Buffer
	err := run(context.Background(), []string{"audit", "verify", "--data", dir}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "serve") {
		t.Fatalf("verify --data on a directory serve runs on must refuse and say why: %v\n%s", err, out.String())
	}
	verify := auditRun(t, append([]string{"audit", "verify", "--nats-url", url, "--public-key", pub, "--signed-from", "1"}, asAuditor...)...)
	for _, want := range []string{"breaks: 0", "views: not checked", "views checked: 0", " verified, "} {
		if !strings.Contains(verify, want) {
			t.Errorf("audit verify --nats-url lacks %q:\n%s", want, verify)
		}
	}
	if online := auditRun(t, append([]string{"audit", "checksum", "--nats-url", url}, asAuditor...)...); online != offlineSum {
		t.Errorf("the checksum online differs from offline:\n%s\n%s", online, offlineSum)
	}
}

func TestAuditRefusesWhereThereIsNoStream(t *testing.T) {
	for _, args := range [][]string{
		{"audit", "verify", "--data", t.TempDir()},
		{"audit", "checksum", "--data", t.TempDir()},
	} {
		var out bytes.Buffer
		err := run(context.Background(), args, &out, &out)
		if err == nil || !strings.Contains(err.Error(), "no crosstalk stream in") {
			t.Errorf("%v: %v", args, err)
		}
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"audit", "checksum", "--data", "x", "--nats-url", "nats://127.0.0.1:1"}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "none of the others can be") {
		t.Errorf("checksum with --data and --nats-url together must be an error: %v", err)
	}
}

func TestAuditHelpExplains(t *testing.T) {
	for _, args := range [][]string{{"audit", "--help"}, {"audit", "verify", "--help"}, {"audit", "checksum", "--help"}} {
		var out bytes.Buffer
		if err := run(context.Background(), args, &out, &out); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if out.Len() < 400 || !strings.Contains(out.String(), "--data") {
			t.Errorf("%v: help too short:\n%s", args, out.String())
		}
	}
}

// auditRun runs the CLI and fails the test on an error.
func auditRun(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), args, &out, &errOut); err != nil {
		t.Fatalf("%v: %v\n%s\n%s", args, err, out.String(), errOut.String())
	}
	return out.String()
}
