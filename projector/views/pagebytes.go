package views

import (
	"bytes"
	"encoding/base64"

	json "github.com/goccy/go-json"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/jsonenc"
)

// Page is which page of a paged query to read, and how large it may be.
type Page struct {
	// Limit is how many items the page holds at most: clamped to
	// 1..MaxPageSize, 0 (or less) meaning DefaultPageSize.
	Limit int
	// Cursor is a NextCursor of an earlier page, or "" for the first.
	Cursor api.Cursor
	// MaxBytes bounds the page's JSON as the query endpoint sends it: the
	// page ends before the item that would pass it, with a NextCursor, so
	// that a page of long texts (a `<` is six bytes in JSON) still fits one
	// NATS message. A page holds one item at least whatever its size, so
	// that paging always moves on (docs/contract.md bounds an item). 0 is
	// no bound: Limit alone decides.
	MaxBytes int
}

// pageBytes counts the bytes of a page's JSON as its items are added.
type pageBytes struct {
	used, max int
}

// cursorField is the JSON a next_cursor adds beside the cursor itself.
const cursorField = len(`,"next_cursor":""`)

// take reports whether an item of n bytes still fits, leaving room for a
// next_cursor of cursor bytes after it, and counts it if so. The first
// item of a page always fits.
func (b *pageBytes) take(n, cursor int, first bool) bool {
	if b.max > 0 && !first && b.used+n+cursorField+cursor > b.max {
		return false
	}
	b.used += n
	return true
}

// cursorLen is the length of the cursor naming a key suffix of n bytes
// (EncodeCursor).
func cursorLen(n int) int { return base64.RawURLEncoding.EncodedLen(n) }

// nullReactions ends a stored message whose reactions are null: the
// query writes them as {}, a byte more.
var nullReactions = []byte(`"reactions":null}`)

// messageBytes is what stored message v takes in a page: its JSON, {} for
// null reactions, and a comma.
func messageBytes(v []byte) int {
	n := len(v) + 1
	if bytes.HasSuffix(v, nullReactions) {
		n++
	}
	return n
}

// mapBytes is the length of m's JSON object.
func mapBytes(m map[string]string) int {
	n := 2 // {}
	for k, v := range m {
		n += quotedBytes(k) + quotedBytes(v) + 2 // colon, comma
	}
	return n
}

// quotedBytes is the length of s as a JSON string.
func quotedBytes(s string) int {
	if jsonenc.Plain(s) {
		return len(s) + 2
	}
	b, _ := json.Marshal(s) // a string always encodes
	return len(b)
}

// sealedMark starts a sealed value inside a stored item's JSON.
var sealedMark = []byte(`"` + "s1.")

// openedBytes is what stored item v may take in a page once its sealed
// values are opened: v's length, each sealed value counted at the most its
// text can take in JSON (every plaintext byte escaped to six, as a `<` is)
// instead of its stored length. A page built on this bound fits its
// message whatever the texts turn out to be; it is exact for an item with
// nothing sealed, and pages of ordinary texts stay far below the bound
// that matters (a NATS message).
func openedBytes(v []byte) int {
	n := len(v)
	for rest := v; ; {
		i := bytes.Index(rest, sealedMark)
		if i < 0 {
			return n
		}
		rest = rest[i+1:]
		end := bytes.IndexByte(rest, '"')
		if end < 0 {
			return n
		}
		n += sealedTextBound(rest[:end]) - (end + 2)
		rest = rest[end:]
	}
}

// sealedTextBound bounds the JSON of the text a stored Content opens to:
// its box (base64url of a 12-byte nonce, the ciphertext and a 16-byte
// tag) holds as many plaintext bytes as the ciphertext, six JSON bytes each
// at most, plus the quotes. A stored erasure marker may take its place; it
// is smaller than any text's room but for an empty one, so erasedRoom
// is added.
func sealedTextBound(content []byte) int {
	sealed, _, _ := bytes.Cut(content, []byte(" "))
	box := sealed[bytes.LastIndexByte(sealed, '.')+1:]
	plain := max(base64.RawURLEncoding.DecodedLen(len(box))-12-16, 0)
	return 6*plain + 2 + erasedRoom
}

// erasedRoom is the most an item's erased marker takes:
// `,"erased":{"at":"…","by":"…","reason":"…","policy_version":…}`.
const erasedRoom = 256
