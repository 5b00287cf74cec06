package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"github.com/crosstalk-dev/crosstalk/codec"
	"slices"
	"strings"

	"github.com/crosstalk-dev/crosstalk/api"
	"github.com/crosstalk-dev/crosstalk/identity"
	"github.com/crosstalk-dev/crosstalk/nodestatus"
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
func (s *Service) hasViews() bool { return s.model.Views() != nil }

// metadata is the service's micro metadata: its node id and roles.
func (s *Service) metadata() map[string]string {
	return nodestatus.Metadata(s.opts.NodeID, s.opts.Roles)
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
	if err := codec.Decode(req.Data, &body); err != nil {
		return nil, err
	}
	return s.Status(ctx)
}
