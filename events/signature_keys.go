package events

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// PEM block types of the key files: PKCS #8 and PKIX, the forms openssl
// reads and writes (`openssl pkey -in signing.key -pubout` prints the
// public key of a signing key file).
const (
	privateKeyBlock = "PRIVATE KEY"
	publicKeyBlock  = "PUBLIC KEY"
)

// ErrKeyFormat reports a key file that is not a PEM ed25519 key of the
// expected kind.
var ErrKeyFormat = errors.New("not a PEM ed25519 key")

// MarshalPrivateKey encodes key as a PEM "PRIVATE KEY" block (PKCS #8).
func MarshalPrivateKey(key ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: privateKeyBlock, Bytes: der}), nil
}

// ParsePrivateKey decodes a PEM "PRIVATE KEY" block holding an ed25519 key.
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	key, err := parsePEM(data, privateKeyBlock, x509.ParsePKCS8PrivateKey)
	if err != nil {
		return nil, err
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: the private key is a %T", ErrKeyFormat, key)
	}
	return priv, nil
}

// MarshalPublicKey encodes pub as a PEM "PUBLIC KEY" block (PKIX).
func MarshalPublicKey(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: publicKeyBlock, Bytes: der}), nil
}

// ParsePublicKey decodes a PEM "PUBLIC KEY" block holding an ed25519 key.
func ParsePublicKey(data []byte) (ed25519.PublicKey, error) {
	key, err := parsePEM(data, publicKeyBlock, x509.ParsePKIXPublicKey)
	if err != nil {
		return nil, err
	}
	pub, ok := key.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: the public key is a %T", ErrKeyFormat, key)
	}
	return pub, nil
}

// parsePEM finds the first PEM block of data, which must be of type want,
// and parses its bytes.
func parsePEM(data []byte, want string, parse func([]byte) (any, error)) (any, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block", ErrKeyFormat)
	}
	if block.Type != want {
		return nil, fmt.Errorf("%w: a %q block, want %q", ErrKeyFormat, block.Type, want)
	}
	key, err := parse(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeyFormat, err)
	}
	return key, nil
}
