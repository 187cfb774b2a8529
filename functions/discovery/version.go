package discovery

import (
	"net/http"
	"runtime/debug"

	"spass/shared/web"
)

// version is the release name, set at link time:
//
//	go build -ldflags "-X spass/functions/discovery.version=1.4.0" ./local/cmd/gateway
//
// It is a package variable only because -X can set nothing else; nothing writes it
// at run time.
var version string

// Version is the /api/version body.
type Version struct {
	Version   string `json:"version"`
	Revision  string `json:"revision"`
	Modified  bool   `json:"modified,omitempty"`
	BuiltAt   string `json:"built_at,omitempty"`
	GoVersion string `json:"go_version"`
}

// Unknown stands for build facts the binary does not carry, such as the revision of
// a binary built with -buildvcs=false (this project's GOFLAGS) or by `go run`.
const Unknown = "unknown"

// readVersion derives the build facts from the linker override and the build info.
// The override wins; a module version other than "(devel)" (a binary installed with
// `go install spass/...@v1.2.3`) comes next; otherwise the version is "dev".
func readVersion(override string, bi *debug.BuildInfo, ok bool) Version {
	v := Version{Version: override, Revision: Unknown, GoVersion: Unknown}
	if ok && bi != nil {
		v.GoVersion = bi.GoVersion
		if v.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Revision = s.Value
			case "vcs.time":
				v.BuiltAt = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	if v.Version == "" {
		v.Version = "dev"
	}
	return v
}

// currentVersion is this binary's Version.
func currentVersion() Version {
	bi, ok := debug.ReadBuildInfo()
	return readVersion(version, bi, ok)
}

// apiVersion serves "GET /api/version".
func apiVersion(v Version) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		return web.JSON(w, http.StatusOK, v)
	}
}
