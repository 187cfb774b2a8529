package batch

import (
	"encoding/json"
	"strings"
)

// Output is one line of a batch's output or error file, in OpenAI's format. A
// line that ran has Response, whatever its status (the body is the answer, or
// the OpenAI error body with its code); a line that never ran (its batch was
// cancelled or expired first) has Error instead.
type Output struct {
	ID       string       `json:"id"`
	CustomID string       `json:"custom_id"`
	Response *Response    `json:"response"`
	Error    *OutputError `json:"error"`
}

// Response is what the endpoint answered a line.
type Response struct {
	StatusCode int             `json:"status_code"`
	RequestID  string          `json:"request_id"`
	Body       json.RawMessage `json:"body"`
}

// OutputError says why a line has no response.
type OutputError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Result is the output line of a line that ran. Its id is derived from the
// request id, which files the line's ledger row: the two can be joined.
func Result(customID, requestID string, status int, body []byte) Output {
	return Output{ID: "batch_req_" + strings.TrimPrefix(requestID, "req_"), CustomID: customID,
		Response: &Response{StatusCode: status, RequestID: requestID, Body: body}}
}

// NotRun is the error line of a line that never ran.
func NotRun(batchID, customID, code, message string) Output {
	return Output{ID: "batch_req_" + ResultFileID(batchID, customID)[len("file-"):], CustomID: customID,
		Error: &OutputError{Code: code, Message: message}}
}
