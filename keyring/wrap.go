package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// ErrUnwrap reports a wrapped key that the master key does not open: it
// was wrapped by another master key, or its bytes were changed.
var ErrUnwrap = errors.New("keyring: the master key does not open this data key")

// wrapFormat is the first byte of a wrapped key.
const wrapFormat = 1

// wrap seals a data key under the master key with AES-256-GCM, bound to
// the subject it is stored on: format, master key id, nonce, sealed key.
func (m *Master) wrap(dataKey []byte, subject string) []byte {
	aead := m.aead()
	out := append([]byte{wrapFormat}, m.ID...)
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	out = append(out, nonce...)
	return aead.Seal(out, nonce, dataKey, []byte(subject))
}

// unwrap opens what wrap made for subject.
func (m *Master) unwrap(wrapped []byte, subject string) ([]byte, error) {
	aead := m.aead()
	head := 1 + len(m.ID) + aead.NonceSize()
	if len(wrapped) < head || wrapped[0] != wrapFormat {
		return nil, fmt.Errorf("%w: not a wrapped key", ErrUnwrap)
	}
	if id := string(wrapped[1 : 1+len(m.ID)]); id != m.ID {
		return nil, fmt.Errorf("%w: wrapped by master key %s, this is %s", ErrUnwrap, id, m.ID)
	}
	key, err := aead.Open(nil, wrapped[1+len(m.ID):head], wrapped[head:], []byte(subject))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnwrap, err)
	}
	return key, nil
}

func (m *Master) aead() cipher.AEAD {
	block, _ := aes.NewCipher(m.key[:]) // a 32-byte key always makes a cipher
	aead, _ := cipher.NewGCM(block)
	return aead
}
