package service

import (
	"errors"
	"github.com/crosstalk-dev/crosstalk/codec"

	"github.com/crosstalk-dev/crosstalk/projector"
)

// answerQuick is answer without waiting: it decodes and checks q and, if
// nothing is to be waited for, answers with fn; otherwise it reports
// answered false, and the caller answers through answer. A request it
// refuses (400, 403) is answered: waiting would not change that.
func (s *Service) answerQuick(body []byte, q query, fn func() (any, error)) (any, bool, error) {
	if err := codec.Decode(body, q); err != nil {
		return nil, true, err
	}
	if err := s.checkQuery(q); err != nil {
		return nil, true, err
	}
	if s.mustWait(q) {
		return nil, false, nil
	}
	res, err := fn()
	if errors.Is(err, projector.ErrClosed) {
		res, err = fn() // as answer does: the views were swapped under the read
	}
	return res, true, err
}

// mustWait reports whether waitCaughtUp would wait for q: the cases in
// which it returns at once are those answerQuick answers.
func (s *Service) mustWait(q query) bool {
	_, status := q.(*statusQuery)
	return s.model.MustWait(q.base().MinSeq, q.base().After, !status)
}
