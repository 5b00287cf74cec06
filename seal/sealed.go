package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// prefix starts every sealed value: the format's version.
const prefix = "s1."

// digestPrefix starts every digest (Digest).
const digestPrefix = "d1."

// IsSealed reports whether v is a sealed value (Seal) rather than text
// written in clear, before sealing existed.
func IsSealed(v string) bool { return strings.HasPrefix(v, prefix) }

// AD is the associated data that binds a sealed value to its envelope: the
// event's subject, type and id, and the account whose content it is. A
// value moved into another event, or claimed for another account, does not
// open.
func AD(subject, eventType, eventID, account string) []byte {
	return []byte(subject + "\x00" + eventType + "\x00" + eventID + "\x00" + account)
}

// Seal encrypts plaintext with leaf's key k of tree treeID (AES-256-GCM,
// a random nonce, ad bound) into "s1.<tree id>.<leaf>.<nonce and
// ciphertext, base64url>".
func Seal(k Key, treeID string, leaf uint32, ad []byte, plaintext string) (string, error) {
	aead, err := newAEAD(k)
	if err != nil {
		return "", err
	}
	box := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(box); err != nil {
		return "", fmt.Errorf("seal: nonce: %w", err)
	}
	box = aead.Seal(box, box, []byte(plaintext), ad)
	return prefix + treeID + "." + strconv.FormatUint(uint64(leaf), 10) + "." + base64.RawURLEncoding.EncodeToString(box), nil
}

// Sealed is a sealed value taken apart.
type Sealed struct {
	TreeID string
	Leaf   uint32
	box    []byte
}

// Parse takes a sealed value apart, or reports ErrMalformed.
func Parse(v string) (Sealed, error) {
	parts := strings.Split(strings.TrimPrefix(v, prefix), ".")
	if !IsSealed(v) || len(parts) != 3 || len(parts[0]) != 16 {
		return Sealed{}, fmt.Errorf("%w: not a sealed value", ErrMalformed)
	}
	if _, err := hex.DecodeString(parts[0]); err != nil {
		return Sealed{}, fmt.Errorf("%w: tree id", ErrMalformed)
	}
	leaf, err := strconv.ParseUint(parts[1], 10, 32)
	if err != nil {
		return Sealed{}, fmt.Errorf("%w: leaf", ErrMalformed)
	}
	box, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(box) < 12+16 {
		return Sealed{}, fmt.Errorf("%w: box", ErrMalformed)
	}
	return Sealed{TreeID: parts[0], Leaf: uint32(leaf), box: box}, nil
}

// Open decrypts s with its leaf's key k and the ad it was sealed with.
func (s Sealed) Open(k Key, ad []byte) (string, error) {
	aead, err := newAEAD(k)
	if err != nil {
		return "", err
	}
	n := aead.NonceSize()
	plain, err := aead.Open(nil, s.box[:n], s.box[n:], ad)
	if err != nil {
		return "", fmt.Errorf("%w: does not open with its key and envelope", ErrMalformed)
	}
	return string(plain), nil
}

// Digest is a keyed digest of text under leaf key k: what a decision
// derives its event's id from in place of the text (aggregate's seed),
// so that a retry is still recognised while the envelope holds no unkeyed
// hash of the text, which could be matched against guesses after the key
// is erased.
func Digest(k Key, text string) string {
	mk := subkey(k, "digest")
	m := hmac.New(sha256.New, mk[:])
	m.Write([]byte(text))
	return digestPrefix + hex.EncodeToString(m.Sum(nil)[:16])
}

// subkey is k's key for one use: a leaf's key is never itself both an
// AES key and an HMAC key.
func subkey(k Key, use string) Key {
	return sha256.Sum256(append([]byte("crosstalk seal v1\x00"+use+"\x00"), k[:]...))
}

func newAEAD(k Key) (cipher.AEAD, error) {
	ak := subkey(k, "aead")
	block, err := aes.NewCipher(ak[:])
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return cipher.NewGCM(block)
}
