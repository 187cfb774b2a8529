package admin

import (
	"net/http"
	"net/http/pprof"
	"strings"

	"spass/shared/apierr"
	"spass/shared/app"
	"spass/shared/identity"
	"spass/shared/web"
)

// PprofPath is where net/http/pprof is served when debug.pprof is on.
const PprofPath = "/debug/pprof/"

// profiler serves net/http/pprof to the operator role when gateway.yaml sets
// debug.pprof; otherwise the route answers as if it did not exist, to anyone. A
// profile shows every tenant's requests in flight, and a CPU profile or trace
// slows the whole process while it runs, so no tenant token opens it.
func profiler(a *app.App) http.Handler {
	if !a.Config.Debug.Pprof {
		return web.NotFound()
	}
	mux := http.NewServeMux()
	mux.HandleFunc(PprofPath+"cmdline", pprof.Cmdline)
	mux.HandleFunc(PprofPath+"profile", pprof.Profile)
	mux.HandleFunc(PprofPath+"symbol", pprof.Symbol)
	mux.HandleFunc(PprofPath+"trace", pprof.Trace)
	mux.HandleFunc(PprofPath, pprof.Index) // the index, and heap, goroutine, allocs... by name
	return a.Auth.RequireOperator(sameOrigin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !strings.HasSuffix(r.URL.Path, "/symbol") {
			web.WriteError(w, r, apierr.E(apierr.MethodNotAllowed, "", nil))
			return
		}
		mux.ServeHTTP(w, r)
	})), false, identity.RoleOperator)
}
