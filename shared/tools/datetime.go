package tools

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	// The Lambda runtime images carry no zoneinfo; embedding it keeps every IANA
	// zone available wherever the gateway runs.
	_ "time/tzdata"
)

const datetimeSchema = `{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "timezone": {
      "type": "string",
      "description": "IANA time zone name, e.g. Europe/Berlin, America/New_York, Asia/Tokyo. Default UTC.",
      "minLength": 1,
      "maxLength": 64,
      "pattern": "^[A-Za-z0-9_+\\-/]+$"
    },
    "format": {
      "type": "string",
      "enum": ["rfc3339", "human", "unix"],
      "description": "How to render the time field: rfc3339 (default), human (weekday, date, time, zone) or unix (seconds since 1970-01-01 UTC)."
    },
    "time": {
      "type": "string",
      "description": "An RFC 3339 timestamp with an offset, e.g. 2025-03-01T14:30:00Z, to convert into timezone instead of reporting the current time.",
      "minLength": 20,
      "maxLength": 40
    }
  }
}`

// Datetime returns the datetime tool: the current time, or a given time converted,
// in an IANA zone. Models have no clock and guess dates from their training cut-off;
// this tool is how they learn "now".
func Datetime() Tool { return datetime(time.Now) }

// datetime takes the clock so tests can pin "now".
func datetime(now func() time.Time) Tool {
	return Tool{
		Name: "datetime",
		Description: "Get the current date and time in a time zone, or convert a given RFC 3339 time into a time zone. " +
			"Use it whenever the answer depends on today's date, the current time, a weekday, or the time somewhere else. " +
			"Returns the time in the requested format plus RFC 3339, unix seconds, weekday, UTC offset and zone abbreviation.",
		Parameters: json.RawMessage(datetimeSchema),
		Execute: func(_ context.Context, _ Call, raw json.RawMessage) (any, error) {
			var args struct {
				Timezone string `json:"timezone"`
				Format   string `json:"format"`
				Time     string `json:"time"`
			}
			if err := decodeArgs(raw, &args); err != nil {
				return nil, err
			}
			loc, err := loadZone(args.Timezone)
			if err != nil {
				return nil, err
			}
			t := now()
			if args.Time != "" {
				if t, err = time.Parse(time.RFC3339, args.Time); err != nil {
					return nil, Errorf("invalid_time", "time %q is not RFC 3339 with an offset (e.g. 2025-03-01T14:30:00Z or 2025-03-01T14:30:00+01:00)", args.Time)
				}
			}
			return describeTime(t.In(loc), args.Format), nil
		},
	}
}

// loadZone resolves an IANA name. "Local" is refused: the server's zone means
// nothing to the model's user.
func loadZone(name string) (*time.Location, error) {
	if name == "" || strings.EqualFold(name, "UTC") || strings.EqualFold(name, "Etc/UTC") {
		return time.UTC, nil
	}
	if name != "Local" {
		if loc, err := time.LoadLocation(name); err == nil {
			return loc, nil
		}
	}
	return nil, Errorf("unknown_time_zone", "unknown time zone %q: use an IANA name such as Europe/Berlin, America/New_York, Asia/Kolkata or UTC", name)
}

// timeResult is what datetime returns.
type timeResult struct {
	Timezone     string `json:"timezone"`
	Time         any    `json:"time"` // string, or int64 for format unix
	RFC3339      string `json:"rfc3339"`
	Unix         int64  `json:"unix"`
	Weekday      string `json:"weekday"`
	UTCOffset    string `json:"utc_offset"`
	Abbreviation string `json:"abbreviation"`
	DST          bool   `json:"is_dst"`
}

func describeTime(t time.Time, format string) timeResult {
	abbr, _ := t.Zone()
	r := timeResult{
		Timezone:     t.Location().String(),
		RFC3339:      t.Format(time.RFC3339),
		Unix:         t.Unix(),
		Weekday:      t.Weekday().String(),
		UTCOffset:    t.Format("-07:00"),
		Abbreviation: abbr,
		DST:          t.IsDST(),
	}
	switch format {
	case "unix":
		r.Time = t.Unix()
	case "human":
		r.Time = t.Format("Monday, 2 January 2006, 15:04:05 MST (UTC-07:00)")
	default:
		r.Time = r.RFC3339
	}
	return r
}
