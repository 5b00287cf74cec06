package events

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"sync"
)

// SignatureHeader is the NATS header in which the service stores an
// event's signature beside its body: "<key id> <base64 signature>" for an
// event signed alone (Sign), or "<key id> <base64 root signature>
// <index>/<size> <base64 audit path>" for an event signed in a batch
// (SignBatch).
//
// The hash chain proves that nothing was changed, removed or reordered
// after an event was stored, but anyone who may publish into the stream can
// compute a correct prevhash and streamversion and append a well-formed
// event of their own. Only the service holds the signing key, so a
// signature proves who appended the event.
const SignatureHeader = "Crosstalk-Signature"

// signatureDomain starts every signed message, so that a crosstalk event
// signature can never be taken for a signature over anything else made
// with the same key, and the format can change under another name.
const signatureDomain = "crosstalk-event-signature-v1"

// keyIDBytes is how many bytes of the public key's sha256 make its id: 8
// bytes (16 hex digits) tell a handful of keys apart; the id only names
// which key to try, the signature is what proves.
const keyIDBytes = 8

// Errors of signature verification, matched with errors.Is.
var (
	// ErrUnsigned reports an event stored without a signature header.
	ErrUnsigned = errors.New("event is not signed")
	// ErrBadSignature reports a signature header that is malformed or
	// does not verify for the event's subject and bytes.
	ErrBadSignature = errors.New("signature does not verify")
	// ErrUnknownKey reports a signature made with a key that is not among
	// the public keys given.
	ErrUnknownKey = errors.New("signed with an unknown key")
)

// SignedMessage is exactly what a signature covers: the ASCII bytes
// "crosstalk-event-signature-v1", a line feed, the stream subject, a line
// feed, and the stored body byte for byte. A NATS subject holds no
// whitespace, so the boundaries are unambiguous. Signing the subject too
// keeps a signed event from being replayed onto another conversation,
// account or the policy subject; a replay on its own subject breaks the
// hash chain instead.
func SignedMessage(subject string, data []byte) []byte {
	return appendSignedMessage(make([]byte, 0, len(signatureDomain)+len(subject)+len(data)+2), subject, data)
}

// appendSignedMessage appends SignedMessage(subject, data) to msg.
func appendSignedMessage(msg []byte, subject string, data []byte) []byte {
	msg = append(msg, signatureDomain...)
	msg = append(msg, '\n')
	msg = append(msg, subject...)
	msg = append(msg, '\n')
	return append(msg, data...)
}

// KeyID is the short id of a public key: the hex of the first 8 bytes of
// the sha256 of its 32 raw bytes.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:keyIDBytes])
}

// Signer signs events with one ed25519 private key. It is safe for
// concurrent use.
type Signer struct {
	key ed25519.PrivateKey
	id  string
}

// NewSigner returns a Signer of key.
func NewSigner(key ed25519.PrivateKey) *Signer {
	return &Signer{key: key, id: KeyID(key.Public().(ed25519.PublicKey))}
}

// KeyID is the id of the signer's public key.
func (s *Signer) KeyID() string { return s.id }

// PublicKey is the public key that verifies the signer's signatures.
func (s *Signer) PublicKey() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// Sign returns the value of SignatureHeader for data stored on subject.
func (s *Signer) Sign(subject string, data []byte) string {
	// The signed message is built in a pooled buffer (ed25519.Sign keeps
	// nothing of it), not a new one of the event's size per append; the
	// header is written in one allocation.
	buf := signedPool.Get().(*[]byte)
	msg := appendSignedMessage((*buf)[:0], subject, data)
	sig := ed25519.Sign(s.key, msg)
	*buf = msg
	signedPool.Put(buf)
	h := make([]byte, 0, len(s.id)+1+base64.StdEncoding.EncodedLen(len(sig)))
	h = append(append(h, s.id...), ' ')
	return string(base64.StdEncoding.AppendEncode(h, sig))
}

// signedPool holds buffers for the messages Sign signs.
var signedPool = sync.Pool{New: func() any { return new([]byte) }}

// PublicKeys are the keys an auditor accepts signatures of, by key id:
// several during and after a key rotation.
type PublicKeys map[string]ed25519.PublicKey

// NewPublicKeys returns the set of keys.
func NewPublicKeys(keys ...ed25519.PublicKey) PublicKeys {
	set := make(PublicKeys, len(keys))
	for _, k := range keys {
		set[KeyID(k)] = k
	}
	return set
}

// IDs lists the keys' ids.
func (k PublicKeys) IDs() []string {
	ids := make([]string, 0, len(k))
	for id := range k {
		ids = append(ids, id)
	}
	return ids
}

// clip cuts a value read from the stream to a short prefix for an error
// message: a hostile header may be large.
func clip(s string) string {
	const maxQuoted = 40
	if len(s) <= maxQuoted {
		return s
	}
	return s[:maxQuoted] + "..."
}
