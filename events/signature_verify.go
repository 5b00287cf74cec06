package events

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// Verify checks header, the value of SignatureHeader stored with data on
// subject, in either of its forms (Sign's and SignBatch's), and returns the
// id of the key that signed. The error wraps ErrUnsigned when header is
// empty, ErrUnknownKey when its key id is not among k, and ErrBadSignature
// when it is malformed or does not verify. It verifies a batch's root
// signature for every event of the batch; a Verifier does it once.
func (k PublicKeys) Verify(subject string, data []byte, header string) (string, error) {
	return k.verify(subject, data, header, nil)
}

// Verifier is PublicKeys.Verify for a walk over many events: it remembers
// the batch signatures it verified, so that the events of one batch cost
// one ed25519 verification, not one each. It is safe for concurrent use;
// goroutines checking events of the same new batch at once may each verify
// its signature.
type Verifier struct {
	keys  PublicKeys
	mu    sync.Mutex
	roots map[string]struct{}
}

// maxVerifiedRoots bounds a Verifier's memory. A batch's events are stored
// close together (they are published together), so a walk in stream order
// needs only the last few batches; the set is emptied when full.
const maxVerifiedRoots = 1024

// NewVerifier returns a Verifier of keys.
func NewVerifier(keys PublicKeys) *Verifier {
	return &Verifier{keys: keys, roots: make(map[string]struct{})}
}

// Verify is PublicKeys.Verify, checking each batch signature once.
func (v *Verifier) Verify(subject string, data []byte, header string) (string, error) {
	return v.keys.verify(subject, data, header, v)
}

// verify is Verify, remembering verified batch signatures in cache when it
// is not nil.
func (k PublicKeys) verify(subject string, data []byte, header string, cache *Verifier) (string, error) {
	if header == "" {
		return "", ErrUnsigned
	}
	h, ok := parseHeader(header)
	if !ok {
		return "", fmt.Errorf("%w: header %q is not \"<key id> <signature>[ <index>/<size> <audit path>]\"", ErrBadSignature, clip(header))
	}
	pub, known := k[h.keyID]
	if !known {
		return h.keyID, fmt.Errorf("%w: key %s", ErrUnknownKey, clip(h.keyID))
	}
	if h.batch {
		return h.keyID, h.verifyBatch(pub, subject, data, cache)
	}
	if !ed25519.Verify(pub, SignedMessage(subject, data), h.sig) {
		return h.keyID, fmt.Errorf("%w under key %s: the subject or the stored bytes are not what was signed", ErrBadSignature, h.keyID)
	}
	return h.keyID, nil
}

// parsedHeader is a value of SignatureHeader taken apart.
type parsedHeader struct {
	keyID string
	sig   []byte
	// batch marks SignBatch's form, which has index, size and path.
	batch       bool
	index, size uint64
	path        []byte
}

// parseHeader takes header apart; ok is false when it is malformed. The
// lengths are checked before decoding: a hostile header may be large.
func parseHeader(header string) (h parsedHeader, ok bool) {
	enc := base64.StdEncoding
	id, rest, ok := strings.Cut(header, " ")
	encodedSig, batch, isBatch := strings.Cut(rest, " ")
	if !ok || len(encodedSig) != enc.EncodedLen(ed25519.SignatureSize) {
		return h, false
	}
	h.keyID, h.batch = id, isBatch
	var err error
	if h.sig, err = enc.DecodeString(encodedSig); err != nil || len(h.sig) != ed25519.SignatureSize {
		return h, false
	}
	if !isBatch {
		return h, true
	}
	place, encodedPath, ok := strings.Cut(batch, " ")
	index, size, ok2 := strings.Cut(place, "/")
	if !ok || !ok2 || len(encodedPath) > enc.EncodedLen(32*sha256.Size) {
		return h, false
	}
	h.index, err = strconv.ParseUint(index, 10, 64)
	var errSize error
	h.size, errSize = strconv.ParseUint(size, 10, 64)
	if err != nil || errSize != nil || h.size > maxBatchSize {
		return h, false
	}
	h.path, err = enc.DecodeString(encodedPath)
	return h, err == nil
}

// verifyBatch checks a header of SignBatch's form: the leaf of subject and
// data with the header's path gives a root, which the header's signature
// must sign under pub, or have signed before in cache.
func (h *parsedHeader) verifyBatch(pub ed25519.PublicKey, subject string, data []byte, cache *Verifier) error {
	root, ok := merkleRoot(leafHash(subject, data), h.index, h.size, h.path)
	if !ok {
		return fmt.Errorf("%w: the audit path does not fit leaf %d of a batch of %d", ErrBadSignature, h.index, h.size)
	}
	msg := batchSignedMessage(h.size, &root)
	var buf [256]byte
	// The key, the signature and the signed message: what one
	// ed25519.Verify established. A key id holds no space.
	key := append(append(append(append(buf[:0], h.keyID...), ' '), h.sig...), msg...)
	if cache.seen(key) {
		return nil
	}
	if !ed25519.Verify(pub, msg, h.sig) {
		return fmt.Errorf("%w under key %s: the subject, the stored bytes or the batch header are not what was signed", ErrBadSignature, h.keyID)
	}
	cache.remember(key)
	return nil
}

// seen reports whether key was remembered; a nil cache remembers nothing.
func (v *Verifier) seen(key []byte) bool {
	if v == nil {
		return false
	}
	v.mu.Lock()
	_, ok := v.roots[string(key)]
	v.mu.Unlock()
	return ok
}

// remember adds key to the verified batch signatures.
func (v *Verifier) remember(key []byte) {
	if v == nil {
		return
	}
	v.mu.Lock()
	if len(v.roots) >= maxVerifiedRoots {
		clear(v.roots)
	}
	v.roots[string(key)] = struct{}{}
	v.mu.Unlock()
}
