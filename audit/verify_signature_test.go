package audit_test

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/eventlog"
	"github.com/crosstalk-dev/crosstalk/events"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node/historytest"
)

// signWith makes f's log sign its next appends with s, as a restarted
// service with a new key would.
func signWith(f *historytest.Fixture, s *events.Signer) {
	f.T.Helper()
	l, err := eventlog.Open(f.Ctx, f.JS, eventlog.Options{Logger: testkit.Quiet(), Signer: s})
	if err != nil {
		f.T.Fatal(err)
	}
	f.Log = l
}

func keysOf(signers ...*events.Signer) events.PublicKeys {
	var keys []ed25519.PublicKey
	for _, s := range signers {
		keys = append(keys, s.PublicKey())
	}
	return events.NewPublicKeys(keys...)
}

func TestVerifySignaturesOfASignedLog(t *testing.T) {
	s := testkit.Signer(t)
	f := historytest.NewSignedFixture(t, s)
	f.Story()
	last := f.LastSeq()

	rep := f.VerifyWith(audit.VerifyOptions{Keys: keysOf(s)})
	sig := rep.Signatures
	if !rep.OK() || !sig.Checked || sig.Verified != last || sig.ByKey[s.KeyID()] != last || sig.RequiredFrom != 1 || sig.Unsigned != 0 {
		t.Fatalf("%+v", rep)
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text, ""); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("signatures: %d verified, %d by key %s; required from seq 1\n", last, last, s.KeyID()); !strings.Contains(text.String(), want) {
		t.Fatalf("text:\n%s\nwant the line %q", text.String(), want)
	}

	rep = f.Verify(nil)
	text.Reset()
	if err := rep.WriteText(&text, ""); err != nil {
		t.Fatal(err)
	}
	if rep.Signatures.Checked || !strings.Contains(text.String(), "signatures: not checked") {
		t.Fatalf("without keys the report must say signatures were not checked:\n%s", text.String())
	}
}

// A well-formed forged event (right prevhash and streamversion) passes the
// hash chains; only its missing or wrong signature gives it away, each at
// its own sequence, and the chain goes on from it.
func TestVerifyFlagsForgedEvents(t *testing.T) {
	s, stranger := testkit.Signer(t), testkit.Signer(t)
	f := historytest.NewSignedFixture(t, s)
	f.Story()
	c1, c2 := events.ConversationSubject(historytest.Conv1), events.ConversationSubject(historytest.Conv2)

	forgedSeq := f.RawEvent(c1, f.SendEvent(historytest.Conv1, historytest.Alice, "forged, unsigned"))
	f.Send(historytest.Conv1, historytest.Bob, "chained to the forged one")

	legit, err := f.Log.Get(f.Ctx, f.Send(historytest.Conv2, historytest.Carol, "a genuine message").Seq)
	if err != nil || legit.Signature == "" {
		t.Fatalf("the genuine message: %+v, %v", legit, err)
	}
	copied := f.SendEvent(historytest.Conv2, historytest.Carol, "forged, with a copied signature")
	copiedSeq := f.RawWithHeader(c2, testkit.Encode(t, copied), nats.Header{events.SignatureHeader: {legit.Signature}})

	strange := f.SendEvent(historytest.Conv2, historytest.Bob, "forged, signed by another key")
	body := testkit.Encode(t, strange)
	strangerSeq := f.RawWithHeader(c2, body, nats.Header{events.SignatureHeader: {stranger.Sign(c2, body)}})
	f.Send(historytest.Conv2, historytest.Bob, "the service goes on")

	if rep := f.Verify(nil); !rep.OK() {
		t.Fatalf("the forgeries are well-formed: the chains alone must not catch them: %+v", rep.Breaks)
	}
	rep := f.VerifyWith(audit.VerifyOptions{Keys: keysOf(s)})
	want := []audit.Break{
		{Seq: forgedSeq, Subject: c1, Kind: audit.BreakUnsigned},
		{Seq: copiedSeq, Subject: c2, Kind: audit.BreakSignature},
		{Seq: strangerSeq, Subject: c2, Kind: audit.BreakSignature},
	}
	if rep.BreaksTotal != uint64(len(want)) {
		t.Fatalf("breaks %+v, want %+v", rep.Breaks, want)
	}
	for i, b := range rep.Breaks {
		if b.Seq != want[i].Seq || b.Subject != want[i].Subject || b.Kind != want[i].Kind {
			t.Errorf("break %d: %+v, want %+v", i, b, want[i])
		}
	}
	if d := rep.Breaks[2].Detail; !strings.Contains(d, stranger.KeyID()) || !strings.Contains(d, "unknown key") {
		t.Errorf("a signature by another key must name it: %q", d)
	}
	if rep.Signatures.Verified != f.LastSeq()-3 {
		t.Errorf("verified %d of %d events, want all but the 3 forged", rep.Signatures.Verified, f.LastSeq())
	}
}

// After a rotation the events signed by the old key keep verifying under
// the old public key; given only the new one, they are breaks.
func TestVerifySignaturesAcrossARotation(t *testing.T) {
	old, current := testkit.Signer(t), testkit.Signer(t)
	f := historytest.NewSignedFixture(t, old)
	f.Story()
	before := f.LastSeq()
	signWith(f, current)
	f.Send(historytest.Conv1, historytest.Alice, "after the rotation")
	f.Send(historytest.Conv2, historytest.Bob, "after the rotation")

	rep := f.VerifyWith(audit.VerifyOptions{Keys: keysOf(old, current)})
	if !rep.OK() || rep.Signatures.ByKey[old.KeyID()] != before || rep.Signatures.ByKey[current.KeyID()] != 2 {
		t.Fatalf("both keys: %+v", rep)
	}
	rep = f.VerifyWith(audit.VerifyOptions{Keys: keysOf(current)})
	if rep.BreaksTotal != before || rep.Breaks[0].Kind != audit.BreakSignature || rep.Signatures.Verified != 2 {
		t.Fatalf("only the new key: %+v", rep)
	}
}

// A history begun before the service signed: its unsigned events are
// counted, not breaks, unless --signed-from says signatures were required;
// an unsigned event after the first signed one is a break.
func TestVerifyAHistoryFromBeforeSigning(t *testing.T) {
	s := testkit.Signer(t)
	f := historytest.NewFixture(t)
	f.Story()
	before := f.LastSeq()
	if rep := f.VerifyWith(audit.VerifyOptions{Keys: keysOf(s)}); !rep.OK() || rep.Signatures.Unsigned != before || rep.Signatures.RequiredFrom != 0 {
		t.Fatalf("nothing signed yet: %+v", rep)
	}
	signWith(f, s)
	f.Send(historytest.Conv1, historytest.Alice, "signed")
	rep := f.VerifyWith(audit.VerifyOptions{Keys: keysOf(s)})
	if sig := rep.Signatures; !rep.OK() || sig.Unsigned != before || sig.RequiredFrom != before+1 || sig.Verified != 1 {
		t.Fatalf("upgraded: %+v", rep)
	}
	rep = f.VerifyWith(audit.VerifyOptions{Keys: keysOf(s), SignedFrom: 1})
	if rep.BreaksTotal != before || rep.Breaks[0].Kind != audit.BreakUnsigned || rep.Signatures.Unsigned != 0 {
		t.Fatalf("--signed-from 1: %+v", rep)
	}
	forged := f.RawEvent(events.ConversationSubject(historytest.Conv1), f.SendEvent(historytest.Conv1, historytest.Bob, "forged"))
	rep = f.VerifyWith(audit.VerifyOptions{Keys: keysOf(s)})
	if rep.BreaksTotal != 1 || rep.Breaks[0].Seq != forged || rep.Breaks[0].Kind != audit.BreakUnsigned {
		t.Fatalf("forged after signing began: %+v", rep)
	}
}
