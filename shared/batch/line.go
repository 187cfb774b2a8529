package batch

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"spass/shared/apierr"
)

// Line is one request of a batch input file, in OpenAI's format:
//
//	{"custom_id": "request-1", "method": "POST", "url": "/v1/chat/completions", "body": {...}}
type Line struct {
	CustomID string          `json:"custom_id"`
	Method   string          `json:"method"`
	URL      string          `json:"url"`
	Body     json.RawMessage `json:"body"`
}

// MaxCustomID bounds a custom_id: it names the line's result, and comes back in
// every error message about the line.
const MaxCustomID = 512

// MaxLineBytes bounds one line of an input file: the body limit of the
// endpoints the line is for.
const MaxLineBytes = 32 << 20

// LineError is what is wrong with one line of an input file, in the shape of
// OpenAI's batch errors.
type LineError struct {
	Line    int    `json:"line"` // 1-based
	Code    string `json:"code"`
	Param   string `json:"param,omitempty"`
	Message string `json:"message"`
}

func (e LineError) String() string {
	if e.Param != "" {
		return fmt.Sprintf("line %d, %s: %s", e.Line, e.Param, e.Message)
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Message)
}

// Limits bound an input file.
type Limits struct {
	MaxLines     int // requests per file
	MaxLineBytes int // bytes per line
}

// Summary is what Check found: the requests, the one endpoint they all name,
// and the invalid lines (the first MaxErrors of Invalid).
type Summary struct {
	Lines    int
	Endpoint string
	Invalid  int
	Errors   []LineError
}

// MaxErrors is how many line errors a Summary keeps.
const MaxErrors = 10

// ErrTooManyLines is returned by Check for a file past Limits.MaxLines.
var ErrTooManyLines = errors.New("batch: too many lines")

// BodyCheck checks a line's body for its endpoint, the way the endpoint would:
// it returns the parameter at fault (under body) and a message, or "" and "".
type BodyCheck func(endpoint string, body []byte) (param, message string)

// Check reads a batch input file and checks every line: a JSON object with a
// custom_id unique in the file, method POST, a url among Endpoints and the same
// on every line, and a body object that check accepts. Blank lines are skipped;
// line numbers count every line of the file. It stops with ErrTooManyLines past
// the limit, and with bufio.ErrTooLong for a line past MaxLineBytes.
func Check(r io.Reader, lim Limits, check BodyCheck) (Summary, error) {
	var s Summary
	seen := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), max(lim.MaxLineBytes, 64<<10))
	for n := 1; sc.Scan(); n++ {
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		if s.Lines++; lim.MaxLines > 0 && s.Lines > lim.MaxLines {
			return s, ErrTooManyLines
		}
		if e, ok := s.check(n, raw, seen, check); !ok {
			if s.Invalid++; len(s.Errors) < MaxErrors {
				s.Errors = append(s.Errors, e)
			}
		}
	}
	return s, sc.Err()
}

// check checks line n; it records the line's custom_id and the file's endpoint.
func (s *Summary) check(n int, raw []byte, seen map[string]int, check BodyCheck) (LineError, bool) {
	bad := func(param, msg string) (LineError, bool) {
		return LineError{Line: n, Code: "invalid_request", Param: param, Message: msg}, false
	}
	l, err := ParseLine(raw)
	if err != nil {
		return bad("", err.Error())
	}
	if first, dup := seen[l.CustomID]; dup {
		return bad("custom_id", "The custom_id "+apierr.Quote(l.CustomID)+" is already used by line "+strconv.Itoa(first)+"; each line needs its own.")
	}
	seen[l.CustomID] = n
	if l.Method != "POST" {
		return bad("method", "The method must be POST.")
	}
	if !slices.Contains(Endpoints, l.URL) {
		return bad("url", fmt.Sprintf("The url %s is not a batch endpoint; use one of %v.", apierr.Quote(l.URL), Endpoints))
	}
	if s.Endpoint == "" {
		s.Endpoint = l.URL
	} else if l.URL != s.Endpoint {
		return bad("url", "Every line of a batch must name the same url; the file's first line names "+s.Endpoint+".")
	}
	if check != nil {
		if param, msg := check(l.URL, l.Body); msg != "" {
			return bad("body."+param, msg)
		}
	}
	return LineError{}, true
}

// EachLine calls fn, in order, with each line of an input file that Check
// accepted at upload, and stops at fn's first error. Blank lines, and lines
// that do not parse (Check refused them), are skipped.
func EachLine(r io.Reader, fn func(Line) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
	for sc.Scan() {
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		l, err := ParseLine(raw)
		if err != nil {
			continue
		}
		if err := fn(l); err != nil {
			return err
		}
	}
	return sc.Err()
}

// ParseLine reads one line of an input file: a JSON object with exactly the
// fields of Line, a non-empty custom_id of at most MaxCustomID bytes and a body
// object.
func ParseLine(raw []byte) (Line, error) {
	var l Line
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(&l); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return Line{}, fmt.Errorf("%s has the wrong type", te.Field)
		}
		return Line{}, errors.New("the line is not a JSON object with custom_id, method, url and body")
	}
	if d.More() {
		return Line{}, errors.New("the line holds more than one JSON value")
	}
	switch {
	case l.CustomID == "":
		return Line{}, errors.New("custom_id is missing")
	case len(l.CustomID) > MaxCustomID:
		return Line{}, fmt.Errorf("custom_id is longer than %d bytes", MaxCustomID)
	case len(bytes.TrimSpace(l.Body)) == 0 || bytes.TrimSpace(l.Body)[0] != '{':
		return Line{}, errors.New("body must be a JSON object")
	}
	return l, nil
}
