package bench

import (
	"context"
	"errors"
	"fmt"
	"github.com/crosstalk-dev/crosstalk/clock"
	"runtime"
	"slices"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/service"
)

// figSendNode is cmd_send_pipelined's workload answered by a commands-only
// node (issue 23).
const figSendNode = "cmd_send_commands_node"

// figRawOCCLate is raw_occ_endpoint measured again just before
// cmd_send_commands_node, after the phases that filled the broker and the
// heap: the floor in the process state the commands node meets.
const figRawOCCLate = "raw_occ_endpoint_late"

// wantSendNodeCPU is issue 23's aim: a commands-only node's CPU per
// command at most this many times raw_occ_endpoint's.
const wantSendNodeCPU = 2.0

// commandsNodeID is the node id of the commands-only service, in every
// reply's Crosstalk-Node header.
const commandsNodeID = "bench-commands"

// cmdSendCommandsNode measures cmd_send_commands_node: the workload of
// cmd_send_pipelined (Clients × InFlight in flight, over Conversations
// conversations of its own, started first through the same node) answered
// by a service built as node.Start builds it for serve --roles commands: no
// read model, no projector, no feeds, no closer. The read model runs on
// query nodes elsewhere; none runs in this process during the phase, so
// the phase's CPU (broker, clients and the commands node, as in
// raw_occ_endpoint) holds none of the projector's or Pebble's. What the
// broker would spend delivering the log to those query nodes is not in
// it either: docs/scaling.md counts it with the brokers.
func (r *runner) cmdSendCommandsNode(ctx context.Context) error {
	if err := r.freeEarlierPhases(); err != nil {
		return err
	}
	if err := r.occFloor(ctx, figRawOCCLate); err != nil {
		return fmt.Errorf("%s: %w", figRawOCCLate, err)
	}
	svc, err := r.commandsNode(nil)
	if err != nil {
		return err
	}
	return r.sendsBy(ctx, svc, figSendNode, "a commands-only node (no read model in this process)")
}

// sendsBy measures figure name: cmd_send_pipelined's workload answered
// by svc, on conversations of its own; what is the note's start.
func (r *runner) sendsBy(ctx context.Context, svc *service.Service, name, what string) error {
	return withService(ctx, svc, func(ctx context.Context) error {
		conns, err := r.clientConns()
		if err != nil {
			return err
		}
		convs, err := r.startConversations(ctx, conns)
		if err != nil {
			return err
		}
		_, err = r.sends(ctx, name, conns, convs, r.opts.InFlight, text(r.opts.TextSize),
			fmt.Sprintf("%s; %d clients, %d requests each in flight, %d conversations", what, len(conns), r.opts.InFlight, len(convs)))
		return err
	})
}

// freeEarlierPhases closes the read models the phases before this one
// left open, which no phase after it reads, and collects what they left:
// the phase then starts from about the heap of a process without a read
// model (the broker's state aside, as in every figure), instead of paying
// for the garbage of the phases before it (2 GB on the heap in a run with
// --backlog 40000) and for marking their Pebble memtables.
func (r *runner) freeEarlierPhases() error {
	r.env.mu.Lock()
	stores := slices.Clone(r.env.stores)
	r.env.mu.Unlock()
	var errs []error
	for _, st := range stores {
		errs = append(errs, st.Close())
	}
	runtime.GC()
	return errors.Join(errs...)
}

// commandsNode is a service on a connection of its own, as node.Start
// builds it for serve --roles commands: no store, the commands role alone,
// sealing with keys unless they are nil.
func (r *runner) commandsNode(keys service.Keys) (*service.Service, error) {
	nc, err := r.env.connect("crosstalk bench commands node")
	if err != nil {
		return nil, err
	}
	return service.New(nc, r.env.log, nil, service.Options{
		Clock: clock.NewSim(serviceStart), Logger: r.opts.Logger, Limits: r.limits(),
		NodeID: commandsNodeID, Roles: []string{api.RoleCommands}, Keys: keys,
	}), nil
}

// commandsNodeTargets: the commands-only node's CPU per command against
// raw_occ_endpoint's (issue 23), and against cmd_send_pipelined's, whose
// node also runs the read model: the difference is the read model's share.
func (r *Result) commandsNodeTargets() {
	r.cpuTarget(figSendNode+" cpu/op", figSendNode, wantSendNodeCPU, " (issue 23)", figRawOCC)
	r.ratio(MeasureCPUPerOp, figSendNode, figSendPiped)
	r.ratio(MeasureCPUPerOp, figSendNode, figRawOCCLate)
}
