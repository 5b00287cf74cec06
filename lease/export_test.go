package lease

// PauseRenewals stops (on) or resumes the lease's renewals, and the giving
// up that missed renewals lead to: a holder paused by the scheduler or a
// stop signal, as a test plays it.
func (l *Lease) PauseRenewals(on bool) { l.paused.Store(on) }
