package events_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/crosstalk-dev/crosstalk/events"
)

// batchOf returns n leaves on distinct subjects with distinct bodies.
func batchOf(n int) []events.Leaf {
	leaves := make([]events.Leaf, n)
	for i := range leaves {
		leaves[i] = events.Leaf{
			Subject: events.ConversationSubject(fmt.Sprintf("0190c2d4-0000-7000-8000-%012d", i%7)),
			Data:    fmt.Appendf(nil, `{"n":%d}`, i),
		}
	}
	return leaves
}

// mth is RFC 6962's Merkle tree hash, written from the RFC for the test:
// the signer's tree must be this one.
func mth(leaves [][]byte) [32]byte {
	if len(leaves) == 1 {
		return sha256.Sum256(append([]byte{0}, leaves[0]...))
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	l, r := mth(leaves[:k]), mth(leaves[k:])
	return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
}

// batchFields splits a header of SignBatch's form.
func batchFields(t *testing.T, header string) (id, sig, place, path string) {
	t.Helper()
	f := strings.Split(header, " ")
	if len(f) != 4 {
		t.Fatalf("header %q: want \"<key id> <signature> <index>/<size> <path>\"", header)
	}
	return f[0], f[1], f[2], f[3]
}

// A batch's headers all carry one ed25519 signature over the documented
// bytes, "crosstalk-event-batch-v1" LF size LF root, where root is RFC
// 6962's tree hash of the events' signed messages; each verifies its own
// event, one by one and through a Verifier. A batch of one is Sign's.
func TestSignBatchVerifies(t *testing.T) {
	s := events.NewSigner(newKey(t))
	keys := events.NewPublicKeys(s.PublicKey())
	for _, n := range []int{1, 2, 3, 5, 16, 17, 1000} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			leaves := batchOf(n)
			headers := s.SignBatch(leaves)
			if len(headers) != n {
				t.Fatalf("%d headers for %d leaves", len(headers), n)
			}
			if n == 1 {
				if headers[0] != s.Sign(leaves[0].Subject, leaves[0].Data) {
					t.Fatalf("a batch of one is %q, not Sign's header", headers[0])
				}
			} else {
				checkBatchSignature(t, s, leaves, headers)
			}
			v := events.NewVerifier(keys)
			for i, l := range leaves {
				if id, err := keys.Verify(l.Subject, l.Data, headers[i]); err != nil || id != s.KeyID() {
					t.Fatalf("leaf %d: Verify = %q, %v", i, id, err)
				}
				if _, err := v.Verify(l.Subject, l.Data, headers[i]); err != nil {
					t.Fatalf("leaf %d: Verifier.Verify = %v", i, err)
				}
			}
		})
	}
	if got := s.SignBatch(nil); len(got) != 0 {
		t.Fatalf("SignBatch(nil) = %q", got)
	}
}

// checkBatchSignature checks that every header of a batch of more than one
// has its index and size and one signature over the documented bytes.
func checkBatchSignature(t *testing.T, s *events.Signer, leaves []events.Leaf, headers []string) {
	t.Helper()
	msgs := make([][]byte, len(leaves))
	for i, l := range leaves {
		msgs[i] = events.SignedMessage(l.Subject, l.Data)
	}
	root := mth(msgs)
	signed := append(fmt.Appendf(nil, "crosstalk-event-batch-v1\n%d\n", len(leaves)), root[:]...)
	_, first, _, _ := batchFields(t, headers[0])
	for i, h := range headers {
		id, sig, place, path := batchFields(t, h)
		raw, err := base64.StdEncoding.DecodeString(sig)
		if id != s.KeyID() || sig != first || err != nil || !ed25519.Verify(s.PublicKey(), signed, raw) {
			t.Fatalf("header %d %q: not one signature over the documented root (%v)", i, h, err)
		}
		if want := fmt.Sprintf("%d/%d", i, len(leaves)); place != want {
			t.Fatalf("header %d: place %q, want %q", i, place, want)
		}
		if p, err := base64.StdEncoding.DecodeString(path); err != nil || len(p)%32 != 0 || len(p) > 32*11 {
			t.Fatalf("header %d: path %q is not whole sha256 hashes (%v)", i, path, err)
		}
	}
}

// withField replaces field i (0..3) of a batch header.
func withField(header string, i int, value string) string {
	f := strings.Split(header, " ")
	f[i] = value
	return strings.Join(f, " ")
}

// flipBase64 returns encoded with one bit of its decoded bytes flipped at
// byte i.
func flipBase64(encoded string, i int) string {
	raw, _ := base64.StdEncoding.DecodeString(encoded)
	raw[i] ^= 0x01
	return base64.StdEncoding.EncodeToString(raw)
}

// doubled returns the base64 of encoded's bytes twice over.
func doubled(encoded string) string {
	raw, _ := base64.StdEncoding.DecodeString(encoded)
	return base64.StdEncoding.EncodeToString(append(raw, raw...))
}

// Every way of moving a batch signature onto what it did not sign fails,
// with a Verifier that has already verified the genuine batches too.
func TestSignBatchRefusesTampering(t *testing.T) {
	s, other := events.NewSigner(newKey(t)), events.NewSigner(newKey(t))
	keys := events.NewPublicKeys(s.PublicKey())
	leaves, second := batchOf(3), batchOf(5)
	headers, secondHeaders := s.SignBatch(leaves), s.SignBatch(second)
	l, h := leaves[2], headers[2]
	id, sig, _, path := batchFields(t, h)
	_, secondSig, _, _ := batchFields(t, secondHeaders[2])
	single := s.Sign(l.Subject, l.Data)
	_, singleSig, _ := strings.Cut(single, " ")
	for _, tc := range []struct {
		name, subject, header string
		data                  []byte
		want                  error
	}{
		{"tampered leaf", l.Subject, h, []byte(`{"n":3}`), events.ErrBadSignature},
		{"another subject", events.PolicySubject, h, l.Data, events.ErrBadSignature},
		{"another leaf's header", leaves[1].Subject, h, leaves[1].Data, events.ErrBadSignature},
		{"tampered path", l.Subject, withField(h, 3, flipBase64(path, 5)), l.Data, events.ErrBadSignature},
		{"path cut short", l.Subject, withField(h, 3, ""), l.Data, events.ErrBadSignature},
		{"path too long", l.Subject, withField(h, 3, doubled(path)), l.Data, events.ErrBadSignature},
		{"tampered index", l.Subject, withField(h, 2, "1/3"), l.Data, events.ErrBadSignature},
		{"index past size", l.Subject, withField(h, 2, "3/3"), l.Data, events.ErrBadSignature},
		{"tampered size", l.Subject, withField(h, 2, "2/4"), l.Data, events.ErrBadSignature},
		{"huge size", l.Subject, withField(h, 2, "2/99999999999999999999"), l.Data, events.ErrBadSignature},
		{"no place", l.Subject, withField(h, 2, "2"), l.Data, events.ErrBadSignature},
		{"signature of another batch", l.Subject, withField(h, 1, secondSig), l.Data, events.ErrBadSignature},
		{"tampered signature", l.Subject, withField(h, 1, flipBase64(sig, 0)), l.Data, events.ErrBadSignature},
		{"another key", l.Subject, other.SignBatch(leaves)[2], l.Data, events.ErrUnknownKey},
		{"another key under our id", l.Subject, id + other.SignBatch(leaves)[2][16:], l.Data, events.ErrBadSignature},
		{"root signature as an event's", l.Subject, id + " " + sig, l.Data, events.ErrBadSignature},
		{"event signature as a root's", l.Subject, id + " " + singleSig + " 0/1 ", l.Data, events.ErrBadSignature},
		{"five fields", l.Subject, h + " x", l.Data, events.ErrBadSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := events.NewVerifier(keys)
			for i, g := range append(leaves, second...) {
				if _, err := v.Verify(g.Subject, g.Data, append(headers, secondHeaders...)[i]); err != nil {
					t.Fatalf("genuine leaf %d: %v", i, err)
				}
			}
			for name, verify := range map[string]func(string, []byte, string) (string, error){"Verify": keys.Verify, "Verifier": v.Verify} {
				if _, err := verify(tc.subject, tc.data, tc.header); !errors.Is(err, tc.want) {
					t.Fatalf("%s = %v, want %v", name, err, tc.want)
				}
			}
		})
	}
}

// BenchmarkSign is the cost a signing log adds to every append, for a
// message.sent of ordinary size, per event at the batch sizes group
// signing makes: 1 (a lone append), 16, 512 (the service's concurrent
// commands, the closer's runs). BenchmarkVerify is what audit verify
// spends per event, on a Verifier as audit verify uses it.
func BenchmarkSign(b *testing.B) {
	s := events.NewSigner(newKey(b))
	for _, n := range []int{1, 16, 512} {
		leaves := sizedBatch(n)
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.SignBatch(leaves)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	s := events.NewSigner(newKey(b))
	keys := events.NewPublicKeys(s.PublicKey())
	for _, n := range []int{1, 16, 512} {
		leaves := sizedBatch(n)
		headers := s.SignBatch(leaves)
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				v := events.NewVerifier(keys)
				for i, l := range leaves {
					if _, err := v.Verify(l.Subject, l.Data, headers[i]); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
		})
	}
}

// sizedBatch is n message.sent-sized bodies on one conversation.
func sizedBatch(n int) []events.Leaf {
	leaves := make([]events.Leaf, n)
	for i := range leaves {
		leaves[i] = events.Leaf{Subject: events.ConversationSubject("0190c2d4-0000-7000-8000-000000000001"), Data: make([]byte, 560)}
		leaves[i].Data[0] = byte(i)
	}
	return leaves
}
