// Package optcheck collects the violations of an Options type's rules, so
// that every package's Validate reports them alike, Pebble-style: all at
// once (errors.Join), each naming the type, the field and the rule, each
// wrapping the one sentinel ErrInvalid. The packages re-export ErrInvalid
// as their ErrInvalidOptions, so errors.Is matches any of them.
//
// The rule every package follows: a field's zero value means its
// documented default; a negative count, size or duration is refused.
package optcheck

import (
	"errors"
	"fmt"
)

// ErrInvalid is wrapped by every violation.
var ErrInvalid = errors.New("invalid options")

// Violations gathers the violations of one Options value.
type Violations struct {
	typ  string
	errs []error
}

// New starts collecting the violations of the options type typ
// ("service.Options").
func New(typ string) *Violations { return &Violations{typ: typ} }

// Add records that field breaks rule, a sentence fragment saying what
// the field must be.
func (v *Violations) Add(field, rule string) {
	v.errs = append(v.errs, fmt.Errorf("%w: %s.%s %s", ErrInvalid, v.typ, field, rule))
}

// Nested records the violations err of a nested Options field, each
// under field's name.
func (v *Violations) Nested(field string, err error) {
	if err != nil {
		v.errs = append(v.errs, fmt.Errorf("%s.%s: %w", v.typ, field, err))
	}
}

// Err returns every violation joined, or nil.
func (v *Violations) Err() error { return errors.Join(v.errs...) }

// NotNegative records a violation unless x, field's value, is zero (its
// default) or positive.
func NotNegative[T ~int | ~int64](v *Violations, field string, x T) {
	if x < 0 {
		v.Add(field, fmt.Sprintf("is %v: it must not be negative (0 means its default)", x))
	}
}

// AddErr records that field breaks the rule err states; the violation
// wraps both ErrInvalid and err, so that a package's own sentinel
// (node.ErrBadNodeID, say) still matches.
func (v *Violations) AddErr(field string, err error) {
	v.errs = append(v.errs, fmt.Errorf("%w: %s.%s: %w", ErrInvalid, v.typ, field, err))
}
