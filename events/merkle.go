package events

import (
	"crypto/sha256"
	"math/bits"
)

// A batch of events is signed once, over the root of a Merkle tree of the
// events (SignBatch). The tree is RFC 6962's (section 2.1, restated in
// RFC 9162 section 2.1): leaves and inner nodes are hashed under different
// prefixes, so that no inner node can be passed off as an event, and a
// tree of n leaves splits at the largest power of two below n.
const (
	leafPrefix = 0x00
	nodePrefix = 0x01
)

// digest is a sha256 hash: a leaf, an inner node or a root of the tree.
type digest = [sha256.Size]byte

// leafHash is sha256(0x00 || SignedMessage(subject, data)): a leaf covers
// exactly what a single signature covers.
func leafHash(subject string, data []byte) digest {
	buf := signedPool.Get().(*[]byte)
	msg := appendSignedMessage(append((*buf)[:0], leafPrefix), subject, data)
	h := sha256.Sum256(msg)
	*buf = msg
	signedPool.Put(buf)
	return h
}

// nodeHash is sha256(0x01 || left || right).
func nodeHash(left, right *digest) digest {
	var b [1 + 2*sha256.Size]byte
	b[0] = nodePrefix
	copy(b[1:], left[:])
	copy(b[1+sha256.Size:], right[:])
	return sha256.Sum256(b[:])
}

// splitPoint is the largest power of two smaller than n, for n > 1: where
// RFC 6962 splits a tree of n leaves.
func splitPoint(n int) int {
	return 1 << (bits.Len(uint(n-1)) - 1)
}

// merkleTree returns the root of the tree over leaves and appends to
// paths[i] the audit path of leaf i, the hashes from the leaf's sibling up
// to the root's child, 32 bytes each (RFC 6962's PATH(i, D[n])).
// len(paths) == len(leaves) > 0.
func merkleTree(leaves []digest, paths [][]byte) digest {
	if len(leaves) == 1 {
		return leaves[0]
	}
	k := splitPoint(len(leaves))
	left := merkleTree(leaves[:k], paths[:k])
	right := merkleTree(leaves[k:], paths[k:])
	for i := range paths[:k] {
		paths[i] = append(paths[i], right[:]...)
	}
	for i := range paths[k:] {
		paths[k+i] = append(paths[k+i], left[:]...)
	}
	return nodeHash(&left, &right)
}

// merkleRoot is the root that leaf, at index in a tree of size leaves,
// proves with path, 32 bytes a hash (RFC 9162 section 2.1.3.2). ok is
// false when path does not fit index and size: too long, too short, not
// whole hashes, or index not below size.
func merkleRoot(leaf digest, index, size uint64, path []byte) (root digest, ok bool) {
	if index >= size || len(path)%sha256.Size != 0 {
		return digest{}, false
	}
	fn, sn, r := index, size-1, leaf
	for ; len(path) > 0; path = path[sha256.Size:] {
		p := (*digest)(path)
		if sn == 0 {
			return digest{}, false
		}
		if fn&1 == 1 || fn == sn {
			r = nodeHash(p, &r)
			for fn&1 == 0 && fn != 0 {
				fn, sn = fn>>1, sn>>1
			}
		} else {
			r = nodeHash(&r, p)
		}
		fn, sn = fn>>1, sn>>1
	}
	return r, sn == 0
}
