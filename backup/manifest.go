package backup

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/jsm.go/api"

	"github.com/crosstalk-dev/crosstalk/audit"
	"github.com/crosstalk-dev/crosstalk/version"
)

// ManifestFile is the manifest's name in a backup directory.
const ManifestFile = "manifest.json"

// PublicKeyFile is where a backup keeps the signing key's public half
// (PEM), when it was given one: for auditors (audit verify --public-key).
const PublicKeyFile = "signing-key.pub.pem"

// streamsDir is the directory of the streams' snapshots, one each.
const streamsDir = "streams"

// manifestFormat is the Format this code writes and reads.
const manifestFormat = 1

// ErrManifest reports a backup directory without a manifest this code
// reads, or whose snapshots are not where it says.
var ErrManifest = errors.New("backup: no usable manifest")

// Manifest describes a backup: what wrote it and when, each stream's
// configuration and state at its snapshot, and the log's audit checksum
// up to those states, which a restore must find again.
type Manifest struct {
	// Format is the manifest's own version (1).
	Format int `json:"format"`
	// Crosstalk is the build that wrote the backup.
	Crosstalk version.Info `json:"crosstalk"`
	// Time is when the backup started.
	Time time.Time `json:"time"`
	// Server and Cluster name the NATS server backed up (Cluster "" when
	// it is not clustered).
	Server  string `json:"server"`
	Cluster string `json:"cluster,omitempty"`
	// Streams are the streams snapshotted, the log's first, in the order
	// a restore creates them.
	Streams []Stream `json:"streams"`
	// LeftOut lists crosstalk's streams on the server that are not in the
	// backup, and why.
	LeftOut []LeftOut `json:"left_out,omitempty"`
	// Log names the log's streams, in eventlog's order (P0 … P{N-1},
	// POLICY when partitioned), and Checksum is `audit checksum` over them
	// up to each stream's last sequence in its snapshot.
	Log      []string     `json:"log"`
	Checksum audit.LogSum `json:"checksum"`
	// SigningKey is the public half of the signing key the backup was
	// given, if any: the manifest stays checkable without the node.
	SigningKey *PublicKey `json:"signing_key,omitempty"`
	// MasterKey says where the master key is: never in a backup.
	MasterKey string `json:"master_key"`
}

// Stream is one stream of a backup.
type Stream struct {
	// Name is the stream's name, and Role what crosstalk keeps in it
	// (RoleLog, RoleRejections, …).
	Name string `json:"name"`
	Role Role   `json:"role"`
	// Consumers says whether the snapshot holds the stream's durable
	// consumers too (the intake's, the apps' on a feed).
	Consumers bool `json:"consumers"`
	// Config and State are the stream's at its snapshot.
	Config api.StreamConfig `json:"config"`
	State  api.StreamState  `json:"state"`
}

// LeftOut is a stream of crosstalk's that a backup leaves out.
type LeftOut struct {
	Name string `json:"name"`
	Why  string `json:"why"`
}

// PublicKey is a signing key's public half.
type PublicKey struct {
	// KeyID is what events' Crosstalk-Signature headers name.
	KeyID string `json:"key_id"`
	// PEM is the key as a PEM "PUBLIC KEY" block, also in PublicKeyFile.
	PEM string `json:"pem"`
}

// masterKeyNote is the manifest's MasterKey: where the key is instead.
const masterKeyNote = "not in this backup: the master key that wraps the keys of CROSSTALK_KEYS is kept apart " +
	"(docs/operations.md, \"The keys that seal message content\"); without it every sealed text reads as erased"

// streamDir is where stream name's snapshot is in the backup dir.
func streamDir(dir, name string) string { return filepath.Join(dir, streamsDir, name) }

// ReadManifest reads the manifest of the backup in dir and checks that
// each stream's snapshot is there.
func ReadManifest(dir string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return m, fmt.Errorf("%w: %s has no %s (is it a directory 'crosstalk backup' wrote?)", ErrManifest, dir, ManifestFile)
	}
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%w: %s: %w", ErrManifest, ManifestFile, err)
	}
	if m.Format != manifestFormat {
		return m, fmt.Errorf("%w: format %d, this crosstalk reads %d", ErrManifest, m.Format, manifestFormat)
	}
	for _, s := range m.Streams {
		if _, err := os.Stat(filepath.Join(streamDir(dir, s.Name), "backup.json")); err != nil {
			return m, fmt.Errorf("%w: the snapshot of %s: %w", ErrManifest, s.Name, err)
		}
	}
	return m, nil
}

// writeManifest writes m into dir, readable by its owner only: it lists
// the streams' configurations.
func writeManifest(dir string, m Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, ManifestFile), append(b, '\n'), 0o600)
}
