package batch_test

import (
	"bufio"
	"errors"
	"strings"
	"testing"

	"spass/shared/batch"
)

const chatLine = `{"custom_id":"%s","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[]}}`

func line(id string) string { return strings.Replace(chatLine, "%s", id, 1) + "\n" }

// TestCheckNumbersLines counts every line of the file, blank ones included, in
// what it reports, and keeps the first MaxErrors errors of all it found.
func TestCheckNumbersLines(t *testing.T) {
	in := line("a") + "\n   \n" + line("a") + `{"custom_id":"b","method":"POST","url":"/v1/chat/completions","body":[]}` + "\n" + line("c")
	s, err := batch.Check(strings.NewReader(in), batch.Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Lines != 4 || s.Invalid != 2 || s.Endpoint != batch.EndpointChat {
		t.Fatalf("summary %+v", s)
	}
	if got := s.Errors[0].String(); got != `line 4, custom_id: The custom_id "a" is already used by line 1; each line needs its own.` {
		t.Fatalf("first error %q", got)
	}
	if s.Errors[1].Line != 5 || s.Errors[1].Message != "body must be a JSON object" {
		t.Fatalf("second error %+v", s.Errors[1])
	}
	var many strings.Builder
	for range 3 * batch.MaxErrors {
		many.WriteString("not json\n")
	}
	if s, _ := batch.Check(strings.NewReader(many.String()), batch.Limits{}, nil); s.Invalid != 3*batch.MaxErrors || len(s.Errors) != batch.MaxErrors {
		t.Fatalf("%d invalid, %d kept", s.Invalid, len(s.Errors))
	}
}

// TestCheckLimits stops at the line limit and at a line past the byte limit.
func TestCheckLimits(t *testing.T) {
	if _, err := batch.Check(strings.NewReader(line("a")+line("b")+line("c")), batch.Limits{MaxLines: 2}, nil); !errors.Is(err, batch.ErrTooManyLines) {
		t.Fatalf("three lines, limit two: %v", err)
	}
	long := strings.Replace(chatLine, "%s", strings.Repeat("x", 100<<10), 1)
	if _, err := batch.Check(strings.NewReader(long), batch.Limits{MaxLineBytes: 64 << 10}, nil); !errors.Is(err, bufio.ErrTooLong) {
		t.Fatalf("a long line: %v", err)
	}
}

// TestCheckAsksTheEndpoint passes each body to the endpoint's check, and reports
// what it says under body.
func TestCheckAsksTheEndpoint(t *testing.T) {
	check := func(endpoint string, body []byte) (string, string) {
		if strings.Contains(string(body), `"m"`) {
			return "model", "no such model"
		}
		return "", ""
	}
	s, _ := batch.Check(strings.NewReader(line("a")), batch.Limits{}, check)
	if s.Invalid != 1 || s.Errors[0].String() != "line 1, body.model: no such model" {
		t.Fatalf("%+v", s)
	}
}

// TestEachLineSkipsBlankAndUnparsedLines hands over the lines that parse, in
// order, and stops at the callback's first error.
func TestEachLineSkipsBlankAndUnparsedLines(t *testing.T) {
	in := line("a") + "\n  \n" + "not json\n" + line("b") + line("c")
	var got []string
	err := batch.EachLine(strings.NewReader(in), func(l batch.Line) error {
		got = append(got, l.CustomID)
		return nil
	})
	if err != nil || strings.Join(got, ",") != "a,b,c" {
		t.Fatalf("got %v, %v; want a,b,c", got, err)
	}
	stop := errors.New("stop")
	got = nil
	err = batch.EachLine(strings.NewReader(in), func(l batch.Line) error {
		got = append(got, l.CustomID)
		return stop
	})
	if err != stop || len(got) != 1 {
		t.Fatalf("got %v, %v; want one line and the callback's error", got, err)
	}
}
