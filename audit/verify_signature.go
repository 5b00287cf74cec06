package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/crosstalk-dev/crosstalk/events"
)

// Kinds of Break about signatures (VerifyOptions.Keys).
const (
	// BreakUnsigned: an event at or after the sequence from which
	// signatures are required carries no signature: someone other than the
	// service published it into the stream.
	BreakUnsigned = "unsigned"
	// BreakSignature: an event's signature is malformed, made with a key
	// that is not among the given ones, or does not verify for its subject
	// and stored bytes.
	BreakSignature = "signature"
)

// VerifyOptions say what VerifyWith checks besides the hash chains.
type VerifyOptions struct {
	// Views, when not nil, are compared with the stream (see Verify).
	Views Views
	// Keys are the public keys whose signatures are accepted: the service's
	// current key and the keys it had before a rotation. Without keys,
	// signatures are not checked.
	Keys events.PublicKeys
	// SignedFrom is the first stream sequence from which every event must
	// be signed; an unsigned event before it is counted, not a break (a
	// history begun before the service signed). 0: from the first event
	// that carries a signature.
	SignedFrom uint64
}

// SignatureReport is what VerifyWith found of the events' signatures.
type SignatureReport struct {
	// Checked says whether signatures were checked at all (keys given).
	Checked bool `json:"checked"`
	// Keys are the ids of the keys given, sorted.
	Keys []string `json:"keys"`
	// RequiredFrom is the sequence from which every event had to be
	// signed: VerifyOptions.SignedFrom, or the first signed event's; 0 when
	// neither exists.
	RequiredFrom uint64 `json:"required_from"`
	// Verified counts the events whose signature verified; ByKey splits
	// them by key id.
	Verified uint64            `json:"verified"`
	ByKey    map[string]uint64 `json:"by_key"`
	// Unsigned counts the unsigned events before RequiredFrom (all of them
	// when it is 0): events from before the service signed.
	Unsigned uint64 `json:"unsigned"`
}

// VerifyWith is Verify with signatures: with o.Keys, every event from
// o.SignedFrom on must carry a signature (events.SignatureHeader) that
// verifies under one of the keys for its subject and stored bytes (else
// BreakUnsigned or BreakSignature), and a signature before it must verify
// too. An undecodable message is reported once, as undecodable.
//
// A log whose stream's settings could lose history (an edited limit, say:
// a log that knows, configChecked) is verified as it is, and the problem
// is a finding of the report: an auditor learns what the history that is
// there holds, and that its stream is not set as crosstalk requires.
func VerifyWith(ctx context.Context, log Log, o VerifyOptions) (Report, error) {
	rep, err := verify(ctx, log, o)
	if c, ok := log.(configChecked); ok && err == nil {
		if p := c.ConfigProblem(); p != nil {
			rep.Findings = append(rep.Findings, p.Error())
		}
	}
	return rep, err
}

// configChecked is a log that knows whether its stream's settings are
// those crosstalk requires (*eventlog.Log).
type configChecked interface {
	ConfigProblem() error
}

// newSignatureReport starts the report of o's signature check.
func newSignatureReport(o VerifyOptions) SignatureReport {
	r := SignatureReport{Keys: []string{}, ByKey: map[string]uint64{}}
	if o.Keys == nil {
		return r
	}
	r.Checked, r.Keys, r.RequiredFrom = true, o.Keys.IDs(), o.SignedFrom
	slices.Sort(r.Keys)
	return r
}

// checkSignature checks the message's signature, as prepare verified it,
// against the rules of o.
func (v *verifier) checkSignature(m events.Message, d *decodedMessage) {
	r := &v.report.Signatures
	if !r.Checked || d.err != nil {
		return
	}
	if m.Signature != "" && r.RequiredFrom == 0 {
		r.RequiredFrom = m.Seq
	}
	switch {
	case d.sigErr == nil:
		r.Verified++
		r.ByKey[d.sigKey]++
	case errors.Is(d.sigErr, events.ErrUnsigned) && (r.RequiredFrom == 0 || m.Seq < r.RequiredFrom):
		r.Unsigned++
	case errors.Is(d.sigErr, events.ErrUnsigned):
		v.add(Break{Seq: m.Seq, Subject: m.Subject, Kind: BreakUnsigned, Detail: fmt.Sprintf(
			"no %s header, and signatures are required from seq %d: the service did not append this event",
			events.SignatureHeader, r.RequiredFrom)})
	default:
		v.add(Break{Seq: m.Seq, Subject: m.Subject, Kind: BreakSignature, Detail: d.sigErr.Error()})
	}
}
