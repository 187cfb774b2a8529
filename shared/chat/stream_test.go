package chat

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestEventReader(t *testing.T) {
	long := strings.Repeat("x", 100<<10) // longer than the reader's buffer
	in := ": keep-alive comment\r\n" +
		"data: {\"a\":1}\r\n\r\n" +
		"event: message\nid: 7\ndata: line1\ndata: line2\n\n" +
		"data:nospace\n\n" +
		"data: " + long + "\n\n" +
		"data: [DONE]" // no trailing newline
	rd := newEventReader(strings.NewReader(in))
	want := []string{`{"a":1}`, "line1\nline2", "nospace", long, "[DONE]"}
	var prev []byte
	for i, w := range want {
		got, err := rd.next()
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if string(got) != w {
			t.Fatalf("event %d = %.40q, want %.40q", i, got, w)
		}
		if i > 0 && string(prev) != want[i-1] {
			t.Fatalf("the previous event changed under the caller: %.40q", prev)
		}
		prev = got
	}
	if _, err := rd.next(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last event: %v", err)
	}
}

func TestFinished(t *testing.T) {
	cases := map[string]bool{
		`{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`:            true,
		`{"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]}`: false,
		`{"choices":[],"usage":{"total_tokens":3}}`:                              true,
	}
	for in, want := range cases {
		if got := finished([]byte(in)); got != want {
			t.Errorf("finished(%s) = %v", in, got)
		}
	}
	if finished(nil) {
		t.Error("no event is not finished")
	}
}

func TestParseChatNeeds(t *testing.T) {
	req, err := ParseChat([]byte(`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}],
		"tools":[{"type":"function","function":{"name":"f"}}],"response_format":{"type":"json_schema"},"stream":true}`))
	if err != nil {
		t.Fatal(err)
	}
	got := ""
	for _, c := range req.Needs {
		got += string(c) + " "
	}
	if got != "chat tools json_mode vision " || !req.Stream || req.IncludeUsage {
		t.Fatalf("needs %q stream %v", got, req.Stream)
	}
	plain, _ := ParseChat([]byte(`{"model":"m","messages":[{"role":"user","content":"an image_url mention"}]}`))
	if len(plain.Needs) != 1 {
		t.Fatalf("text mentioning image_url must not need vision: %v", plain.Needs)
	}
}
