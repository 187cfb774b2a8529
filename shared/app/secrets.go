package app

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// ReloadSecrets reads the secret files again (backend api_key_file, token
// sha256_file; see config.LoadSecrets) and puts them to use: new requests carry
// the new backend keys, and the new token digests admit. On an error (a file
// gone, a digest malformed) nothing changes. The log names files, never secrets.
func (a *App) ReloadSecrets() error {
	c, err := a.Config.WithSecretsReloaded()
	if err != nil {
		return err
	}
	for _, bc := range c.Backends {
		if b := a.Router.Backend(bc.Name); b != nil {
			b.SetKey(bc.APIKey)
		}
	}
	a.Auth.Reload(c)
	return nil
}

// ReloadOnSIGHUP reloads the secrets on every SIGHUP until ctx ends, as
// `systemctl reload spass-gateway` asks (infra/systemd). Lambda functions read
// their secrets at start and never call it.
func (a *App) ReloadOnSIGHUP(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if err := a.ReloadSecrets(); err != nil {
					slog.Error("SIGHUP: secrets not reloaded, the old ones stay in use", "err", err)
					continue
				}
				slog.Info("SIGHUP: secrets reloaded")
			}
		}
	}()
}
