package authcallout

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/nkeys"

	"github.com/crosstalk-dev/crosstalk/events"
)

// The files WriteKeyFiles writes into a `crosstalk auth init --callout`
// directory.
const (
	// IssuerSeedFile holds the account nkey seed the callout signs its
	// answers with; the configuration's auth_callout issuer is its public
	// key.
	IssuerSeedFile = "callout-issuer.nk"
	// KeysFile registers each app's public keys (see Keys).
	KeysFile = "app-keys.json"
)

// AppSeedFile is the file of app's signing seed: the app's backend mints
// its devices' tokens with it.
func AppSeedFile(app string) string { return "app-" + app + ".nk" }

// ErrBadKey reports a keys file entry that is not an app and a public
// account nkey.
var ErrBadKey = errors.New("bad app key")

// Keys are the public keys each app registered: a device token signed by
// one of an app's keys may name only that app's accounts. An app may have
// several, so that a new key can be rolled out before the old is removed.
// As a file (KeysFile) it is a JSON object of app to a list of public
// account nkeys: {"instagram": ["AB…"], "messenger": ["AC…"]}.
type Keys map[string][]string

// App returns the app that registered the public key.
func (k Keys) App(key string) (events.App, bool) {
	for app, list := range k {
		for _, registered := range list {
			if registered == key {
				return events.App(app), true
			}
		}
	}
	return "", false
}

// Validate reports an entry that is not a valid app name and public
// account nkeys, or a key registered by two apps.
func (k Keys) Validate() error {
	seen := map[string]string{}
	for app, list := range k {
		if err := events.App(app).Validate(); err != nil {
			return fmt.Errorf("%w: %v", ErrBadKey, err)
		}
		for _, key := range list {
			if !nkeys.IsValidPublicAccountKey(key) {
				return fmt.Errorf("%w: %s: %q is not a public account nkey (A…)", ErrBadKey, app, key)
			}
			if other, dup := seen[key]; dup && other != app {
				return fmt.Errorf("%w: %s registered by both %s and %s", ErrBadKey, key, other, app)
			}
			seen[key] = app
		}
	}
	return nil
}

// ReadKeys reads and validates a KeysFile.
func ReadKeys(path string) (Keys, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var k Keys
	if err := json.Unmarshal(data, &k); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := k.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// ReadSeed reads an nkey seed file (as WriteKeyFiles or `nk -gen account`
// write it) and returns its key pair.
func ReadSeed(path string) (nkeys.KeyPair, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	kp, err := nkeys.FromSeed([]byte(strings.TrimSpace(string(data))))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return kp, nil
}

// WriteKeyFiles writes issuer's seed and a new signing key for each app
// into dir, every file mode 0600 and none overwritten: IssuerSeedFile,
// AppSeedFile(app) for each app, and KeysFile with the apps' public keys.
// The configuration's auth_callout issuer is issuer's public key
// (natsconf.Config.WithCallout).
func WriteKeyFiles(dir string, issuer nkeys.KeyPair, apps []string) error {
	if err := writeSeed(filepath.Join(dir, IssuerSeedFile), issuer); err != nil {
		return err
	}
	keys := Keys{}
	for _, app := range apps {
		kp, err := nkeys.CreateAccount()
		if err != nil {
			return err
		}
		pub, err := kp.PublicKey()
		if err != nil {
			return err
		}
		if err := writeSeed(filepath.Join(dir, AppSeedFile(app)), kp); err != nil {
			return err
		}
		keys[app] = []string{pub}
	}
	data, err := json.MarshalIndent(keys, "", "  ")
	if err != nil {
		return err
	}
	return writeNew(filepath.Join(dir, KeysFile), append(data, '\n'))
}

// writeSeed writes kp's seed to path, which must not exist yet.
func writeSeed(path string, kp nkeys.KeyPair) error {
	seed, err := kp.Seed()
	if err != nil {
		return err
	}
	return writeNew(path, append(seed, '\n'))
}

// writeNew writes a file that must not exist yet, mode 0600 whatever the
// umask.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	return errors.Join(err, f.Chmod(0o600), f.Close())
}
