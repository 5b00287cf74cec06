package bench

import (
	"context"
	"path/filepath"

	"github.com/crosstalk-dev/crosstalk/keyring"
)

// figSendSealed is cmd_send_commands_node's workload with message text
// sealed (issue 26): the cost of sealing per command.
const figSendSealed = "cmd_send_sealed"

// cmdSendSealed measures cmd_send_sealed: the commands-only node of
// cmd_send_commands_node, on conversations of its own, sealing every
// message's text with a keyring on the same broker, as serve does: a
// scope's tree made on its first message (a record in CROSSTALK_KEYS),
// then, per message, its leaf derived, a keyed digest for the event id and
// the text sealed with AES-256-GCM. Compared with cmd_send_commands_node
// (the same node without keys) and cmd_send (today's figure).
func (r *runner) cmdSendSealed(ctx context.Context) error {
	ring, err := r.keyring(ctx)
	if err != nil {
		return err
	}
	defer ring.Close()
	svc, err := r.commandsNode(ring)
	if err != nil {
		return err
	}
	return r.sendsBy(ctx, svc, figSendSealed, "cmd_send_commands_node's node sealing every text")
}

// keyring opens a keyring on the bench's broker with a master key of its
// own, in the bench's temporary directory.
func (r *runner) keyring(ctx context.Context) (*keyring.Ring, error) {
	path := filepath.Join(r.env.dir, "master.key")
	if err := keyring.CreateMaster(path); err != nil {
		return nil, err
	}
	master, err := keyring.ReadMaster(path)
	if err != nil {
		return nil, err
	}
	return keyring.Open(ctx, r.env.js, master, keyring.Options{})
}

// sealedTargets states the cost of sealing: cmd_send_sealed's CPU per
// command against the same node's without keys, and against cmd_send's.
func (r *Result) sealedTargets() {
	r.ratio(MeasureCPUPerOp, figSendSealed, figSendNode)
	r.ratio(MeasureCPUPerOp, figSendSealed, figSend)
}
