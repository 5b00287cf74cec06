package eventlog

// ObserveCommits makes every committer of l call f with the first sequence
// and the size of each batch it commits, after JetStream acknowledged the
// batch and before any of its appends is answered.
func ObserveCommits(l *Log, f func(first uint64, n int)) {
	for _, s := range l.Streams() {
		if s.group != nil {
			s.group.committed = f
		}
	}
}
