package views

// HistoryEvent returns the stored bytes of the event at stream sequence seq
// on subject, exactly as the projector copied them from the log into
// hist/<subject>/<seq>, or found false when there is no such entry. It is
// the point lookup that lets an auditor compare one log message with the
// views without scanning the whole history. The returned slice is a copy the
// caller may keep.
func (q *Queries) HistoryEvent(subject string, seq uint64) (data []byte, found bool, err error) {
	release, err := q.acquire()
	if err != nil {
		return nil, false, err
	}
	defer release()
	return Get(q.db, HistKey(subject, seq))
}
