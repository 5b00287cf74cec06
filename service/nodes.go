package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/identity"
	"github.com/crosstalk-dev/crosstalk/rpc"
)

// ErrNoViews reports a request for the read model (a rebuild) made to a
// node that keeps none: one without the queries and closer roles.
var ErrNoViews = errors.New("this node keeps no read model")

// allRoles is Options.Roles' default.
var allRoles = []string{api.RoleCommands, api.RoleQueries, api.RoleCloser, api.RoleIntake}

// newNodeID is Options.NodeID's default, for a service built without a
// node (package node keeps its id in the data directory).
func newNodeID() string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read does not fail
	return "n-" + hex.EncodeToString(b[:])
}

// has says whether the service takes role.
func (s *Service) has(role string) bool { return slices.Contains(s.opts.Roles, role) }

// hasViews says whether the service keeps a read model: New was given a
// store. A node with neither the queries nor the closer role has none, and
// runs no projector, no feeds and no query endpoints.
func (s *Service) hasViews() bool { return s.views() != nil }

// metadata is the service's micro metadata: its node id and roles.
func (s *Service) metadata() map[string]string {
	return map[string]string{api.MetadataNode: s.opts.NodeID, api.MetadataRoles: strings.Join(s.opts.Roles, ",")}
}

// addNodeEndpoints registers the admin subjects this node answers alone,
// crosstalk.admin.node.<id>.status and .views.rebuild.
func (s *Service) addNodeEndpoints(svc *rpc.Server) error {
	g := svc.AddGroup(strings.TrimSuffix(api.AdminNodePrefix, ".") + "." + s.opts.NodeID)
	if err := s.add(g, s.commands, "node.status", "status", s.nodeStatus); err != nil {
		return err
	}
	return s.add(g, s.commands, "node.views.rebuild", "views.rebuild",
		func(ctx context.Context, p identity.Principal, req rpc.Request) (any, error) {
			return s.rebuildViews(ctx, p, req.Data)
		})
}

// nodeStatus answers crosstalk.admin.node.<id>.status, for admins: the
// status of this node, with or without a read model.
func (s *Service) nodeStatus(ctx context.Context, p identity.Principal, req rpc.Request) (any, error) {
	if err := p.MayAdmin(); err != nil {
		return nil, err
	}
	var body api.StatusRequest
	if err := decodeStrict(req.Data, &body); err != nil {
		return nil, err
	}
	return s.Status(ctx)
}

// nodesWait is how long a status waits for the service's instances to
// answer $SRV.INFO: a node on the same cluster answers in a millisecond or
// two; one slower than this is left out of that status.
const nodesWait = 250 * time.Millisecond

// nodes asks every instance of the service for its info and lists the
// nodes that answer within nodesWait, sorted by node id.
func (s *Service) nodes(ctx context.Context) ([]api.NodeInfo, error) {
	subject, err := micro.ControlSubject(micro.InfoVerb, api.ServiceName, "")
	if err != nil {
		return nil, err
	}
	inbox := s.nc.NewInbox()
	replies := make(chan *nats.Msg, 64)
	sub, err := s.nc.ChanSubscribe(inbox, replies)
	if err != nil {
		return nil, err
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := s.nc.PublishRequest(subject, inbox, nil); err != nil {
		return nil, err
	}
	return collectNodes(ctx, replies), nil
}

// collectNodes reads info replies until nodesWait has passed.
func collectNodes(ctx context.Context, replies <-chan *nats.Msg) []api.NodeInfo {
	timer := time.NewTimer(nodesWait)
	defer timer.Stop()
	seen := map[string]api.NodeInfo{}
	for {
		select {
		case m := <-replies:
			var info micro.Info
			if json.Unmarshal(m.Data, &info) == nil {
				seen[info.ID] = nodeInfo(info)
			}
		case <-timer.C:
			return sortedNodes(seen)
		case <-ctx.Done():
			return sortedNodes(seen)
		}
	}
}

func nodeInfo(info micro.Info) api.NodeInfo {
	n := api.NodeInfo{Node: info.Metadata[api.MetadataNode], Instance: info.ID, Roles: []string{}}
	if roles := info.Metadata[api.MetadataRoles]; roles != "" {
		n.Roles = strings.Split(roles, ",")
	}
	return n
}

func sortedNodes(seen map[string]api.NodeInfo) []api.NodeInfo {
	out := make([]api.NodeInfo, 0, len(seen))
	for _, n := range seen {
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b api.NodeInfo) int {
		return strings.Compare(a.Node+"\x00"+a.Instance, b.Node+"\x00"+b.Instance)
	})
	return out
}
