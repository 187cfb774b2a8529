package functions

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"spass/shared/app"
	"spass/shared/config"
	"spass/shared/identity"
	"spass/shared/web"
)

// Serve runs the bundle on one port as the host does: it opens the app for cfg,
// starts the background jobs (see app.StartJobs) and serves every group until
// ctx ends, within the server's limits.
func Serve(ctx context.Context, cfg *config.Config, getenv func(string) string, stdout io.Writer) error {
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	a.ReloadOnSIGHUP(ctx) // secrets from files (docs/configuration.md)
	stopJobs, err := a.StartJobs(ctx, getenv)
	if err != nil {
		return err
	}
	defer stopJobs()

	ln, err := web.Listen(cfg.Addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "SPASS gateway listening on http://%s (config: %s)\n", ln.Addr(), cfg.Source)
	return web.ServeWith(ctx, ln, Handler(a), a.ServerLimits())
}

// OperatorToken gives a gateway without configured operators one operator token,
// kept in the data dir beside the dev token: whoever can read that directory owns
// the gateway's data anyway, so the file grants nothing new. It prints the token on
// a dev start (no tenants configured) and only the file's path otherwise, so a
// production log never holds it.
func OperatorToken(cfg *config.Config, dev bool, stdout io.Writer) error {
	if len(cfg.Operators) > 0 {
		return nil
	}
	tok, path, err := KeptToken(cfg.DataDir, "operator-token", "spass-op-")
	if err != nil {
		return err
	}
	cfg.Operators = []config.Token{{Name: "operator-token", Plain: tok, Role: identity.RoleOperator}}
	if dev {
		fmt.Fprintf(stdout, "Operator token (/metrics, /statsz, /admin/queues; no tenant has it), kept in %s:\n\n    %s\n\n", path, tok)
	} else {
		fmt.Fprintf(stdout, "No operators configured: the operator token (/metrics, /statsz, /admin/queues) is in %s.\n", path)
	}
	return nil
}

// KeptToken returns the token kept in the file name of the data dir, creating it
// once (prefix and 48 random hex digits, mode 0600), so it stays the same across
// restarts of `make run`.
func KeptToken(dir, name, prefix string) (tok, path string, err error) {
	path = filepath.Join(dir, name)
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), path, nil
	}
	var b [24]byte
	rand.Read(b[:])
	tok = prefix + hex.EncodeToString(b[:])
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", "", err
	}
	slog.Info("created a token", "file", path)
	return tok, path, nil
}
