// Package admin serves operator views: per-model counters (/statsz) and the asynq
// queue monitor (asynqmon) at /admin/queues, the latter for the admin role only.
package admin

import (
	"log/slog"
	"net/http"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"

	"spass/shared/apierr"
	"spass/shared/app"
	"spass/shared/auth"
	"spass/shared/identity"
	"spass/shared/web"
)

// Routes are the patterns this group serves.
var Routes = []string{
	"GET /statsz",
	"/admin/queues/",
}

// QueuesPath is where asynqmon is mounted.
const QueuesPath = "/admin/queues"

// New returns the handler for the admin group.
func New(a *app.App) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /statsz", web.Handle(statsz(a)))
	mux.Handle("/admin/queues/", adminOnly(a.Auth, queues(a.Config.RedisURL)))
	return a.Middleware(mux)
}

// queues is asynqmon on the configured Redis, or a catalog error without one.
func queues(redisURL string) http.Handler {
	if redisURL == "" {
		return web.Handle(func(w http.ResponseWriter, r *http.Request) error {
			return apierr.E(apierr.NotConfigured, "Queues run in-process: set REDIS_URL to use asynq workers and this monitor.", nil)
		})
	}
	opt, err := asynq.ParseRedisURI(redisURL)
	if err != nil {
		slog.Error("asynqmon disabled", "err", err)
		return queues("")
	}
	return asynqmon.New(asynqmon.Options{RootPath: QueuesPath, RedisConnOpt: opt})
}

// adminOnly admits the admin role, by bearer token or by HTTP Basic auth with the
// token as password, so a browser can open the monitor through its login prompt.
func adminOnly(a *auth.Authenticator, next http.Handler) http.Handler {
	return web.Handle(func(w http.ResponseWriter, r *http.Request) error {
		p, err := a.Authenticate(r)
		if err != nil {
			_, pass, ok := r.BasicAuth()
			if !ok {
				w.Header().Set("WWW-Authenticate", `Basic realm="SPASS admin"`)
				return err
			}
			if p, ok = a.Lookup(pass); !ok {
				w.Header().Set("WWW-Authenticate", `Basic realm="SPASS admin"`)
				return apierr.E(apierr.InvalidAPIKey, "", nil)
			}
		}
		if p.Role != identity.RoleAdmin {
			return apierr.E(apierr.PermissionDenied, "The queue monitor is for the admin role.", nil)
		}
		next.ServeHTTP(w, r)
		return nil
	})
}
