package discovery

import (
	"runtime/debug"
	"testing"
)

func TestReadVersion(t *testing.T) {
	vcs := []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "true"}}
	cases := []struct {
		name     string
		override string
		bi       *debug.BuildInfo
		ok       bool
		want     Version
	}{
		{"no build info", "", nil, false, Version{Version: "dev", Revision: Unknown, GoVersion: Unknown}},
		{"go run, -buildvcs=false", "", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}}, true,
			Version{Version: "dev", Revision: Unknown, GoVersion: "go1.26.0"}},
		{"stamped by VCS", "", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}, Settings: vcs}, true,
			Version{Version: "dev", Revision: "abc123", Modified: true, BuiltAt: "2026-01-02T03:04:05Z", GoVersion: "go1.26.0"}},
		{"go install @version", "", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"}}, true,
			Version{Version: "v1.2.3", Revision: Unknown, GoVersion: "go1.26.0"}},
		{"-ldflags -X wins", "1.4.0", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"}}, true,
			Version{Version: "1.4.0", Revision: Unknown, GoVersion: "go1.26.0"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := readVersion(tc.override, tc.bi, tc.ok); got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
