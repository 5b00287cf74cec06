package api

import "time"

// NodeHeader is the header every reply carries, success or error: the id
// of the node that answered (serve --node-id).
const NodeHeader = "Crosstalk-Node"

// The roles a node may take (serve --roles); a node takes all four unless
// told otherwise. They are the values of NodeInfo.Roles and of the micro
// metadata "roles".
const (
	// RoleCommands answers crosstalk.cmd.* and crosstalk.admin.policy.publish.
	RoleCommands = "commands"
	// RoleQueries keeps a read model and answers crosstalk.query.* and the
	// live feeds.
	RoleQueries = "queries"
	// RoleCloser runs the policy closer; it needs the read model, which a
	// node with it keeps even without RoleQueries.
	RoleCloser = "closer"
	// RoleIntake consumes the durable intake.
	RoleIntake = "intake"
)

// Keys of the micro metadata each instance of the service reports in
// $SRV.INFO and $SRV.PING ("nats micro info crosstalk").
const (
	// MetadataNode is the node's id.
	MetadataNode = "node"
	// MetadataRoles is the node's roles, comma-separated.
	MetadataRoles = "roles"
)

// AdminNodePrefix starts the admin subjects one node answers alone:
// crosstalk.admin.node.<id>.views.rebuild and crosstalk.admin.node.<id>.status.
const AdminNodePrefix = "crosstalk.admin.node."

// AdminNodeStatus is the subject of node id's own status (-> Status).
func AdminNodeStatus(id string) string { return AdminNodePrefix + id + ".status" }

// AdminNodeViewsRebuild is the subject of an online rebuild of node id's
// read model (RebuildViews -> RebuildReply).
func AdminNodeViewsRebuild(id string) string { return AdminNodePrefix + id + ".views.rebuild" }

// NodeInfo is one node of the service as a status sees it: its id and
// roles, from its micro metadata.
type NodeInfo struct {
	Node  string   `json:"node"`
	Roles []string `json:"roles"`
	// Instance is the node's micro instance id ("nats micro info").
	Instance string `json:"instance"`
}

// LeaseInfo is who holds a singleton's lease (closer, intake): the node,
// the term (the lease's revision when it was acquired) and since when.
type LeaseInfo struct {
	Node  string    `json:"node"`
	Term  uint64    `json:"term"`
	Since time.Time `json:"since"`
}

// StatusRequest is the body of crosstalk.admin.node.<id>.status: an empty
// JSON object.
type StatusRequest struct{}
