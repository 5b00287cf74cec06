package natsconf

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The files WriteDir writes.
const (
	ConfFile        = "nats.conf"
	CredentialsFile = "credentials.json"
)

// ErrExists reports a directory that already holds a configuration:
// WriteDir never overwrites secrets that may be in use.
var ErrExists = errors.New("configuration already exists")

// WriteDir writes c into dir (created 0700 if missing) as ConfFile and
// CredentialsFile, both mode 0600, listening on listen.
func (c Config) WriteDir(dir, listen string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for _, name := range []string{ConfFile, CredentialsFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: %w (remove it to make new secrets)", filepath.Join(dir, name), ErrExists)
		}
	}
	var conf strings.Builder
	if err := c.WriteConf(&conf, listen); err != nil {
		return err
	}
	creds, err := json.MarshalIndent(c.Credentials, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, ConfFile), []byte(conf.String()), 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, CredentialsFile), append(creds, '\n'), 0o600)
}

// ReadCredentials reads a CredentialsFile.
func ReadCredentials(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	var c Config
	if err := json.Unmarshal(data, &c.Credentials); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ContextCommands returns the `nats context save` command lines that let
// the stock nats CLI act as each principal against url, with the
// principal's inbox prefix (else its requests get no reply). The password
// is joined to its flag (--password='…'): a random one may begin with '-',
// which the CLI would take for a flag. tlsCA, if
// set, is the CA file a TLS server's certificate is checked against.
func (c Config) ContextCommands(url, tlsCA string) []string {
	var out []string
	for _, cr := range c.Credentials {
		line := fmt.Sprintf("nats context save %s --server %s --user '%s' --password='%s' --inbox-prefix '%s'",
			ContextName(cr.Principal), url, cr.User, cr.Password, cr.InboxPrefix)
		if tlsCA != "" {
			line += " --tlsca '" + tlsCA + "'"
		}
		out = append(out, line)
	}
	return out
}

// ContextName is the nats CLI context of principal: "crosstalk-" and the
// principal with ':' as '-'.
func ContextName(principal string) string {
	return "crosstalk-" + strings.ReplaceAll(principal, ":", "-")
}
