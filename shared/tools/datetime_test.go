package tools

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

func TestDatetime(t *testing.T) {
	now := time.Date(2025, 7, 1, 12, 30, 0, 0, time.UTC) // a Tuesday, summer time in Berlin
	tool := datetime(func() time.Time { return now })
	run := func(args string) (map[string]any, error) {
		out, err := tool.Execute(context.Background(), testPrincipal, json.RawMessage(args))
		if err != nil {
			return nil, err
		}
		return jsonOf(t, out), nil
	}
	tests := []struct {
		name, args string
		want       map[string]any
	}{
		{"default is UTC rfc3339", `{}`, map[string]any{"timezone": "UTC", "time": "2025-07-01T12:30:00Z", "weekday": "Tuesday", "utc_offset": "+00:00"}},
		{"utc in any case", `{"timezone": "utc"}`, map[string]any{"timezone": "UTC"}},
		{"a zone with DST", `{"timezone": "Europe/Berlin"}`, map[string]any{"time": "2025-07-01T14:30:00+02:00", "abbreviation": "CEST", "is_dst": true}},
		{"unix", `{"timezone": "Asia/Tokyo", "format": "unix"}`, map[string]any{"time": float64(now.Unix()), "unix": float64(now.Unix())}},
		{"human", `{"timezone": "America/New_York", "format": "human"}`, map[string]any{"time": "Tuesday, 1 July 2025, 08:30:00 EDT (UTC-04:00)"}},
		{"convert a given time", `{"timezone": "Asia/Kolkata", "time": "2025-01-15T23:00:00Z"}`, map[string]any{"time": "2025-01-16T04:30:00+05:30", "weekday": "Thursday"}},
		{"convert with an offset and fraction", `{"time": "2025-01-15T23:00:00.5+01:00"}`, map[string]any{"time": "2025-01-15T22:00:00Z"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := run(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
		})
	}

	refusals := []struct{ name, args, code string }{
		{"unknown zone", `{"timezone": "Mars/Olympus_Mons"}`, "unknown_time_zone"},
		{"the server's local zone", `{"timezone": "Local"}`, "unknown_time_zone"},
		{"path traversal", `{"timezone": "../../etc/passwd"}`, "unknown_time_zone"},
		{"time without offset", `{"time": "2025-01-15T23:00:00"}`, "invalid_time"},
		{"time not a date", `{"time": "the day after tomorrow"}`, "invalid_time"},
		{"impossible date", `{"time": "2025-02-30T10:00:00Z"}`, "invalid_time"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			_, err := run(tc.args)
			mustToolErr(t, err, tc.code)
		})
	}
}

func TestDatetimeSchema(t *testing.T) {
	out, err := execArgs(t, Datetime(), `{"timezone": "Europe/Paris", "format": "rfc3339"}`)
	if err != nil {
		t.Fatal(err)
	}
	if got := jsonOf(t, out); got["timezone"] != "Europe/Paris" {
		t.Fatalf("got %v", got)
	}
	_, err = execArgs(t, Datetime(), `{"format": "iso8601"}`)
	mustToolErr(t, err, "invalid_arguments")
}
