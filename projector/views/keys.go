package views

import (
	"bytes"
	"encoding/binary"
	"math"
	"time"

	"github.com/crosstalk-dev/crosstalk/events"
)

// Key layout. Every key starts with a table name and a slash ("conv/"),
// followed by its components:
//
//   - a number is 8 bytes big-endian, so numbers sort numerically;
//   - a text (subject, conversation id, account, message id) is its bytes
//     followed by a 0x00 terminator.
//
// The terminator, rather than a '/', is what makes the byte order of keys
// the order of their component tuples: 0x00 sorts below every character a
// name may hold, so "instagram:al" and all its keys sort before
// "instagram:al-b", whereas with '/' (0x2f) the '-' (0x2d) would sort first.
// It also makes every prefix scan exact: the keys of "al" never include those
// of "al-b". Texts never contain 0x00 (ids are UUIDs, names are validated).
//
// This file is the only place that builds or parses keys.
const (
	tableMeta         = "meta/"
	tablePoison       = "poison/"
	tableHist         = "hist/"
	tableConv         = "conv/"
	tableInbox        = "inbox/"
	tableMsg          = "msg/"
	tableMsgID        = "msgid/"
	tableRead         = "read/"
	tableAcct         = "acct/"
	tablePolicy       = "policy/"
	tablePolicyClosed = "policyclosed/"
	tableOpen         = "open/"
	tableFeed         = "feed/"
)

const terminator = 0x00

// key is a key under construction.
type key []byte

func newKey(table string) key { return sizedKey(table, 64) }

// sizedKey begins a key of table with room for rest more bytes, so that
// the keys Apply writes for every event, whose texts (a 58-byte subject)
// outgrew newKey's 64 bytes, are one allocation each rather than three.
func sizedKey(table string, rest int) key { return append(make(key, 0, len(table)+rest), table...) }

// textNum is the room of a text and a number.
func textNum(s string) int { return len(s) + 1 + 8 }

func (k key) text(s string) key {
	k = append(k, s...)
	return append(k, terminator)
}

func (k key) num(n uint64) key { return binary.BigEndian.AppendUint64(k, n) }

// CheckpointKey holds the stream sequence of the last applied message.
func CheckpointKey() []byte { return newKey(tableMeta).text("checkpoint") }

// StreamCheckpointKey holds the sequence of the last applied message of
// stream i of a store of several streams (Options.Streams > 1).
func StreamCheckpointKey(i int) []byte { return newKey(tableMeta).text("checkpoint").num(uint64(i)) }

// streamsKey holds the number of streams of a store of several.
func streamsKey() []byte { return newKey(tableMeta).text("streams") }

// PoisonKey records a message that could not be decoded.
func PoisonKey(seq uint64) []byte { return newKey(tablePoison).num(seq) }

// StreamPoisonKey is PoisonKey in a store of several streams, whose
// sequences are per stream: the same seq of two streams names two
// messages.
func StreamPoisonKey(stream int, seq uint64) []byte {
	return newKey(tablePoison).num(uint64(stream)).num(seq)
}

// parsePoisonKey is the inverse of PoisonKey (stream -1) and
// StreamPoisonKey.
func parsePoisonKey(k []byte) (stream int, seq uint64, ok bool) {
	rest, ok := bytes.CutPrefix(k, []byte(tablePoison))
	switch {
	case !ok:
		return 0, 0, false
	case len(rest) == 8:
		return -1, binary.BigEndian.Uint64(rest), true
	case len(rest) == 16:
		return int(binary.BigEndian.Uint64(rest)), binary.BigEndian.Uint64(rest[8:]), true
	}
	return 0, 0, false
}

// HistKey holds the stored bytes of one event.
func HistKey(subject string, seq uint64) []byte {
	return sizedKey(tableHist, textNum(subject)).text(subject).num(seq)
}

// parseHistKey is the inverse of HistKey.
func parseHistKey(k []byte) (subject string, seq uint64, ok bool) {
	rest, ok := bytes.CutPrefix(k, []byte(tableHist))
	if !ok {
		return "", 0, false
	}
	subj, rest, ok := cutText(rest)
	if !ok || len(rest) != 8 {
		return "", 0, false
	}
	return subj, binary.BigEndian.Uint64(rest), true
}

// ConvKey holds a conversation's record (ConvRecord).
func ConvKey(id string) []byte { return sizedKey(tableConv, len(id)+1).text(id) }

// OpenKey lists an open conversation, with its apps, for the closer.
func OpenKey(conv string) []byte { return newKey(tableOpen).text(conv) }

// parseOpenKey returns the conversation id of an open/ key.
func parseOpenKey(k []byte) (string, bool) {
	rest, ok := bytes.CutPrefix(k, []byte(tableOpen))
	if !ok {
		return "", false
	}
	id, rest, ok := cutText(rest)
	return id, ok && len(rest) == 0
}

// InboxPrefix is the prefix of one account's inbox entries.
func InboxPrefix(a events.Account) []byte { return newKey(tableInbox).text(string(a)) }

// InboxKey orders an account's conversations newest activity first: the
// activity is inverted so that a forward scan starts at the newest. Its
// value is the account's InboxItem (api.InboxItem's JSON) with the unread
// count, so a page is one range scan with no point reads. The entry of every participant
// sits at the conversation record's LastActivity, which is how Apply finds
// the entry to move without a pointer.
func InboxKey(a events.Account, inverted uint64, conv string) []byte {
	return sizedKey(tableInbox, textNum(string(a))+len(conv)+1).text(string(a)).num(inverted).text(conv)
}

// parseInboxSuffix returns the conversation of an inbox key's suffix (the
// part after InboxPrefix), which is also what an inbox cursor holds.
func parseInboxSuffix(suffix []byte) (conv string, ok bool) {
	if len(suffix) < 8 {
		return "", false
	}
	conv, rest, ok := cutText(suffix[8:])
	return conv, ok && len(rest) == 0
}

// MsgPrefix is the prefix of one conversation's messages.
func MsgPrefix(conv string) []byte { return newKey(tableMsg).text(conv) }

// MsgKey orders a conversation's messages by the stream sequence of their
// message.sent event.
func MsgKey(conv string, seq uint64) []byte {
	return sizedKey(tableMsg, textNum(conv)).text(conv).num(seq)
}

// ParseMsgSuffix returns the sequence of a message key's suffix (the part
// after MsgPrefix), which is also what a messages cursor holds.
func ParseMsgSuffix(suffix []byte) (uint64, bool) {
	if len(suffix) != 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(suffix), true
}

// MsgIDKey holds the sequence a conversation's message id was sent at.
func MsgIDKey(conv, messageID string) []byte {
	return sizedKey(tableMsgID, len(conv)+len(messageID)+2).text(conv).text(messageID)
}

// readPrefix is the prefix of one conversation's read markers.
func readPrefix(conv string) []byte { return newKey(tableRead).text(conv) }

// ReadKey holds a's read marker in conv (ReadMarker).
func ReadKey(conv string, a events.Account) []byte { return key(readPrefix(conv)).text(string(a)) }

// AcctKey holds an account's record (AccountRecord).
func AcctKey(a events.Account) []byte { return newKey(tableAcct).text(string(a)) }

// PolicyKey holds a published policy, by version.
func PolicyKey(version uint64) []byte { return newKey(tablePolicy).num(version) }

// PolicyClosedKey counts the conversations a policy version closed.
func PolicyClosedKey(version uint64) []byte { return newKey(tablePolicyClosed).num(version) }

// The feed/ table is the live feeds' own state, not a view of the events:
// it depends on what this store published (Checksum leaves it out).

// FeedKey holds the number N of an account's last feed notification.
func FeedKey(a events.Account) []byte { return newKey(tableFeed).text("n").text(string(a)) }

// FeedPolicyKey holds the last policy version whose visibility notices
// were published (PolicyTookEffect).
func FeedPolicyKey() []byte { return newKey(tableFeed).text("policy") }

// tablePrefix is the prefix of every key of a table.
func tablePrefix(table string) []byte { return newKey(table) }

// prefixEnd returns the smallest key greater than every key with the prefix:
// the exclusive upper bound of a prefix scan.
func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil // all 0xff: no upper bound
}

// successor returns the smallest key greater than k, where a scan resumes
// after a cursor.
func successor(k []byte) []byte { return append(bytes.Clone(k), 0) }

// cutText splits a terminated text component off the front of b.
func cutText(b []byte) (text string, rest []byte, ok bool) {
	i := bytes.IndexByte(b, terminator)
	if i < 0 {
		return "", nil, false
	}
	return string(b[:i]), b[i+1:], true
}

// InvertTime maps a time to a number that sorts newest first. Times before
// 1970 (never produced by the service clock) all map to the oldest slot.
func InvertTime(t time.Time) uint64 {
	ns := t.UnixNano()
	if ns < 0 {
		ns = 0
	}
	return math.MaxUint64 - uint64(ns)
}

// EncodeUint is the value encoding of counters, sequences and the inbox
// pointer: 8 bytes big-endian.
func EncodeUint(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// decodeUint is the inverse of EncodeUint.
func decodeUint(b []byte) (uint64, bool) {
	if len(b) != 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(b), true
}

// suffix returns the part of k after prefix: what a cursor holds.
func suffix(prefix, k []byte) []byte { return bytes.Clone(k[len(prefix):]) }

// withSuffix is the inverse of suffix: the key a cursor names.
func withSuffix(prefix, sfx []byte) []byte { return append(bytes.Clone(prefix), sfx...) }
