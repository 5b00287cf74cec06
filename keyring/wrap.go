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

// unwrap opens what wrap made for subject, with this key or, during a
// rotation, a previous one.
func (m *Master) unwrap(wrapped []byte, subject string) ([]byte, error) {
	id, err := wrappedBy(wrapped, len(m.ID))
	if err != nil {
		return nil, err
	}
	k := m.opener(id)
	if k == nil {
		return nil, fmt.Errorf("%w: wrapped by master key %s, this is %s", ErrUnwrap, id, m.ID)
	}
	aead := k.aead()
	head := 1 + len(m.ID) + aead.NonceSize()
	if len(wrapped) < head {
		return nil, fmt.Errorf("%w: not a wrapped key", ErrUnwrap)
	}
	key, err := aead.Open(nil, wrapped[1+len(m.ID):head], wrapped[head:], []byte(subject))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnwrap, err)
	}
	return key, nil
}

// wrappedBy is the id of the master key that wrapped w.
func wrappedBy(w []byte, idLen int) (string, error) {
	if len(w) < 1+idLen || w[0] != wrapFormat {
		return "", fmt.Errorf("%w: not a wrapped key", ErrUnwrap)
	}
	return string(w[1 : 1+idLen]), nil
}

func (m *Master) aead() cipher.AEAD {
	block, _ := aes.NewCipher(m.key[:]) // a 32-byte key always makes a cipher
	aead, _ := cipher.NewGCM(block)
	return aead
}
