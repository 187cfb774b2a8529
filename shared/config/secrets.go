package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// SecretsDir is where container runtimes mount secrets (Docker and Podman
// secrets, Kubernetes volumes by convention).
const SecretsDir = "/run/secrets"

// maxSecret bounds a secret file: a key or a digest, never a document.
const maxSecret = 64 << 10

// SecretPath resolves a secret file's name: an absolute path as is, else the name
// in $CREDENTIALS_DIRECTORY (systemd LoadCredential=, LoadCredentialEncrypted=)
// when it is there, else in /run/secrets.
func SecretPath(name string, getenv func(string) string) string {
	if filepath.IsAbs(name) {
		return name
	}
	if dir := getenv("CREDENTIALS_DIRECTORY"); dir != "" {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return filepath.Join(SecretsDir, name)
}

// readSecret returns the trimmed content of the named secret file. Errors name
// the file, never what it holds.
func readSecret(name string, getenv func(string) string) (string, error) {
	path := SecretPath(name, getenv)
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("secret file %s: not found", path)
		}
		return "", fmt.Errorf("secret file %s: %w", path, err)
	}
	defer f.Close()
	b := make([]byte, maxSecret+1)
	n, _ := f.Read(b)
	if n > maxSecret {
		return "", fmt.Errorf("secret file %s: larger than %d bytes", path, maxSecret)
	}
	v := strings.TrimSpace(string(b[:n]))
	if v == "" {
		return "", fmt.Errorf("secret file %s: empty", path)
	}
	return v, nil
}

// LoadSecrets reads every secret the configuration names a file for: backend
// keys (api_key_file, BACKEND_API_KEY_FILE for the quick start) and token
// digests (sha256_file), over what the environment gave. The binaries call it
// again on SIGHUP (app.ReloadSecrets) so that a rotated key needs no restart.
func (c *Config) LoadSecrets() error {
	getenv := c.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	for i := range c.Backends {
		b := &c.Backends[i]
		if b.APIKeyFile == "" {
			continue
		}
		v, err := readSecret(b.APIKeyFile, getenv)
		if err != nil {
			return fmt.Errorf("backends[%d].api_key_file: %w", i, err)
		}
		b.APIKey = v
	}
	for id, t := range c.Tenants {
		for j := range t.Tokens {
			if err := t.Tokens[j].loadDigest(getenv); err != nil {
				return fmt.Errorf("tenants.%s.tokens[%d].sha256_file: %w", id, j, err)
			}
		}
	}
	for j := range c.Operators {
		if err := c.Operators[j].loadDigest(getenv); err != nil {
			return fmt.Errorf("operators[%d].sha256_file: %w", j, err)
		}
	}
	return nil
}

func (t *Token) loadDigest(getenv func(string) string) error {
	if t.SHA256File == "" {
		return nil
	}
	v, err := readSecret(t.SHA256File, getenv)
	if err != nil {
		return err
	}
	t.SHA256 = strings.ToLower(v)
	return nil
}

// WithSecretsReloaded returns a copy of c with its secret files read again; c
// itself is not changed (requests read it concurrently).
func (c *Config) WithSecretsReloaded() (*Config, error) {
	n := *c
	n.Backends = append([]Backend(nil), c.Backends...)
	n.Operators = append([]Token(nil), c.Operators...)
	n.Tenants = make(map[string]Tenant, len(c.Tenants))
	for id, t := range c.Tenants {
		t.Tokens = append([]Token(nil), t.Tokens...)
		n.Tenants[id] = t
	}
	if err := n.LoadSecrets(); err != nil {
		return nil, err
	}
	if err := n.validate(); err != nil {
		return nil, err
	}
	return &n, nil
}
