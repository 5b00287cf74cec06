package events

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"math/bits"
	"strconv"
	"strings"
)

// batchDomain starts the message a batch signature covers, so that a
// batch signature can never be taken for an event signature
// (signatureDomain) nor the reverse: a signed root is not a signed event.
const batchDomain = "crosstalk-event-batch-v1"

// maxBatchSize bounds the size a batch header may state: its audit paths
// have at most 32 hashes, so a hostile header cannot make a verifier hash
// more than that per event.
const maxBatchSize = 1 << 32

// Leaf is one event of a batch SignBatch signs: the subject it is stored
// on and its stored bytes.
type Leaf struct {
	Subject string
	Data    []byte
}

// batchSignedMessage is exactly what a batch signature covers: the ASCII
// bytes "crosstalk-event-batch-v1", a line feed, the number of events in
// the batch in decimal, a line feed, and the 32 bytes of the root of the
// batch's Merkle tree. Signing the size fixes the tree's shape, so that an
// index and size in a header are what the signer put there.
func batchSignedMessage(size uint64, root *digest) []byte {
	msg := make([]byte, 0, len(batchDomain)+2+20+sha256.Size)
	msg = append(append(msg, batchDomain...), '\n')
	msg = append(strconv.AppendUint(msg, size, 10), '\n')
	return append(msg, root[:]...)
}

// SignBatch returns the values of SignatureHeader for leaves, in their
// order, made with one ed25519 signature: one over the root of a Merkle
// tree of the leaves, each header carrying that signature, the leaf's
// index, the batch's size and the leaf's audit path:
//
//	<key id> <base64 root signature> <index>/<size> <base64 audit path>
//
// A batch of one is signed as Sign signs, in Sign's format. The headers of
// a batch depend on the whole batch: the same event signed in another
// batch gets another header, so nothing may compare headers to recognise
// a retry (JetStream does not: it compares Nats-Msg-Id).
func (s *Signer) SignBatch(leaves []Leaf) []string {
	switch len(leaves) {
	case 0:
		return nil
	case 1:
		return []string{s.Sign(leaves[0].Subject, leaves[0].Data)}
	}
	hashes := make([]digest, len(leaves))
	for i, l := range leaves {
		hashes[i] = leafHash(l.Subject, l.Data)
	}
	// One backing array for every path: a path has at most depth hashes.
	depth := bits.Len(uint(len(leaves)-1)) * sha256.Size
	flat := make([]byte, len(leaves)*depth)
	paths := make([][]byte, len(leaves))
	for i := range paths {
		paths[i] = flat[i*depth : i*depth : (i+1)*depth]
	}
	size := uint64(len(leaves))
	root := merkleTree(hashes, paths)
	sig := ed25519.Sign(s.key, batchSignedMessage(size, &root))
	prefix := s.id + " " + base64.StdEncoding.EncodeToString(sig) + " "
	headers := make([]string, len(leaves))
	for i, path := range paths {
		headers[i] = batchHeader(prefix, uint64(i), size, path)
	}
	return headers
}

// batchHeader writes one header of a batch in one allocation (a
// strings.Builder hands over its bytes; a []byte converted to a string
// would be copied: 400 bytes an event more); prefix is the batch's
// "<key id> <base64 root signature> ".
func batchHeader(prefix string, index, size uint64, path []byte) string {
	enc := base64.StdEncoding
	var b strings.Builder
	b.Grow(len(prefix) + 2*20 + 2 + enc.EncodedLen(len(path)))
	b.WriteString(prefix)
	var n [20]byte
	b.Write(strconv.AppendUint(n[:0], index, 10))
	b.WriteByte('/')
	b.Write(strconv.AppendUint(n[:0], size, 10))
	b.WriteByte(' ')
	var buf [1024]byte // a path of 24 levels; a longer one is encoded on the heap
	if n := enc.EncodedLen(len(path)); n <= len(buf) {
		enc.Encode(buf[:n], path)
		b.Write(buf[:n])
	} else {
		b.WriteString(enc.EncodeToString(path))
	}
	return b.String()
}
