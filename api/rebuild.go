package api

import "time"

// RebuildViews is the body of crosstalk.admin.views.rebuild: an empty JSON
// object. The rebuild runs after the reply; crosstalk.query.status shows its
// progress.
type RebuildViews struct{}

// RebuildReply is the success reply of crosstalk.admin.views.rebuild.
// Joined is set when a rebuild was already running: the request joined it
// rather than starting a second one. Node is the id of the node whose read
// model rebuilds: with several query nodes, crosstalk.query.status may be
// answered by another, so its progress is read from that node's
// crosstalk.admin.node.<node>.status.
type RebuildReply struct {
	Joined   bool            `json:"joined,omitempty"`
	Node     string          `json:"node,omitempty"`
	Progress RebuildProgress `json:"progress"`
}

// RebuildProgress is how far an online rebuild of the read model has got:
// Applied of Target events (Target is the stream's last sequence when the
// rebuild started; the rebuilt store then catches up with whatever was
// appended meanwhile before it is swapped in).
type RebuildProgress struct {
	State      string     `json:"state"`
	Applied    uint64     `json:"applied"`
	Target     uint64     `json:"target"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// Error says why a failed rebuild failed.
	Error string `json:"error,omitempty"`
}

// States of a RebuildProgress: running until the rebuilt store has caught
// up with the log and replaced the live one (done), or failed; a failed or
// interrupted rebuild leaves the live read model as it was.
const (
	RebuildRunning = "running"
	RebuildDone    = "done"
	RebuildFailed  = "failed"
)
