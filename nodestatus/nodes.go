package nodestatus

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/crosstalk-dev/crosstalk/api"
)

// Metadata is a service's micro metadata: its node id and roles, which
// the nodes a status sees are read from.
func Metadata(node string, roles []string) map[string]string {
	return map[string]string{api.MetadataNode: node, api.MetadataRoles: strings.Join(roles, ",")}
}

// nodesWait is how long a status waits for the service's instances to
// answer $SRV.INFO: a node on the same cluster answers in a millisecond or
// two; one slower than this is left out of that status.
const nodesWait = 250 * time.Millisecond

// nodes asks every instance of the service for its info and lists the
// nodes that answer within nodesWait, sorted by node id.
func (r *Reporter) nodes(ctx context.Context) ([]api.NodeInfo, error) {
	subject, err := micro.ControlSubject(micro.InfoVerb, api.ServiceName, "")
	if err != nil {
		return nil, err
	}
	nc := r.cfg.Conn
	inbox := nc.NewInbox()
	replies := make(chan *nats.Msg, 64)
	sub, err := nc.ChanSubscribe(inbox, replies)
	if err != nil {
		return nil, err
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := nc.PublishRequest(subject, inbox, nil); err != nil {
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

// nodeInfo is an instance's line of the status, read from its metadata.
func nodeInfo(info micro.Info) api.NodeInfo {
	n := api.NodeInfo{Node: info.Metadata[api.MetadataNode], Instance: info.ID, Roles: []string{}}
	if roles := info.Metadata[api.MetadataRoles]; roles != "" {
		n.Roles = strings.Split(roles, ",")
	}
	return n
}

// sortedNodes lists seen by node id, then instance id, so that a status
// reads the same whichever instance answered first.
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
