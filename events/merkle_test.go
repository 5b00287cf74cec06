package events

import (
	"crypto/sha256"
	"testing"
)

// FuzzMerkleTree holds the tree to its two properties for any size: every
// leaf's audit path leads to the root at its index, and nothing else does
// (another index, a path with one bit flipped, a shorter or longer path).
func FuzzMerkleTree(f *testing.F) {
	for _, seed := range [][3]uint16{{1, 0, 0}, {2, 1, 3}, {3, 2, 255}, {7, 6, 9}, {1000, 511, 70}, {513, 512, 1}} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, size, index, flip uint16) {
		n := int(size)%2048 + 1
		i := int(index) % n
		leaves := make([]digest, n)
		for k := range leaves {
			leaves[k] = sha256.Sum256([]byte{byte(k), byte(k >> 8)})
		}
		paths := make([][]byte, n)
		root := merkleTree(leaves, paths)
		if got, ok := merkleRoot(leaves[i], uint64(i), uint64(n), paths[i]); !ok || got != root {
			t.Fatalf("leaf %d of %d: its path gives %x, %v; root %x", i, n, got, ok, root)
		}
		if n > 1 {
			j := (i + 1 + int(flip)%(n-1)) % n
			if got, ok := merkleRoot(leaves[i], uint64(j), uint64(n), paths[i]); ok && got == root {
				t.Fatalf("leaf %d of %d proves the root at index %d", i, n, j)
			}
			p := append([]byte(nil), paths[i]...)
			p[int(flip)%len(p)] ^= 1 << (flip % 8)
			if got, ok := merkleRoot(leaves[i], uint64(i), uint64(n), p); ok && got == root {
				t.Fatalf("leaf %d of %d: a path with a flipped bit proves the root", i, n)
			}
			if _, ok := merkleRoot(leaves[i], uint64(i), uint64(n), paths[i][sha256.Size:]); ok {
				t.Fatalf("leaf %d of %d: a path one hash short fits", i, n)
			}
		}
		if _, ok := merkleRoot(leaves[i], uint64(i), uint64(n), append(paths[i], root[:]...)); ok {
			t.Fatalf("leaf %d of %d: a path one hash long fits", i, n)
		}
	})
}
