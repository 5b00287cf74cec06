package node_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/intake"
	"github.com/crosstalk-dev/crosstalk/internal/testkit"
	"github.com/crosstalk-dev/crosstalk/node"
	"github.com/crosstalk-dev/crosstalk/service"
)

// Validate reports every violation at once, the nested service's and
// intake's included, each naming its field and rule and matching its own
// sentinel; Start refuses the options before it creates anything.
func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     node.Options
		want     []string
		sentinel error
	}{
		{"zero value", node.Options{}, nil, nil},
		{"nested", node.Options{Partitions: -1, LeaseTTL: -time.Second,
			Service: service.Options{CloseGrace: -time.Second}, Intake: intake.Options{Batch: -3}},
			[]string{"node.Options.Partitions is -1", "node.Options.LeaseTTL is -1s",
				"node.Options.Service: invalid options: service.Options.CloseGrace is -1s",
				"node.Options.Intake: invalid options: intake.Options.Batch is -3"}, nil},
		{"node id", node.Options{NodeID: "-bad", Replicas: -1},
			[]string{`node.Options.NodeID: bad node id "-bad"`, "node.Options.Replicas is -1"}, node.ErrBadNodeID},
		{"config with url", node.Options{NatsConfig: "nats.conf", NatsURL: "nats://127.0.0.1:4222", Roles: node.Roles{"reader"}},
			[]string{"node.Options.NatsConfig: a NATS configuration file", `unknown role "reader"`}, node.ErrConfigWithURL},
		{"credentials", node.Options{Credentials: node.Credentials{Password: "p"}, Intake: intake.Options{Apps: []string{"Bad App"}}},
			[]string{"node.Options.Credentials:", "node.Options.Intake: invalid options: intake.Options.Apps:"}, node.ErrCredentials},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.opts.Validate()
			testkit.CheckViolations(t, err, node.ErrInvalidOptions, tc.want)
			if len(tc.want) == 0 {
				return
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("err %v does not wrap %v", err, tc.sentinel)
			}
			o := tc.opts
			o.Dir = filepath.Join(t.TempDir(), "data")
			if n, err := node.Start(context.Background(), o); !errors.Is(err, node.ErrInvalidOptions) {
				if n != nil {
					_ = n.Close()
				}
				t.Fatalf("Start: %v, want ErrInvalidOptions", err)
			}
			if _, err := os.Stat(o.Dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("Start refused the options but touched %s: %v", o.Dir, err)
			}
		})
	}
}
