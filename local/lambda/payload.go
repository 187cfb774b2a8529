package lambda

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// preludeEnd separates a streamed response's JSON prelude from its body.
var preludeEnd = []byte{0, 0, 0, 0, 0, 0, 0, 0}

// maxPrelude bounds the prelude: status, headers and cookies.
const maxPrelude = 64 << 10

// prelude is the head of a streamed HTTP response, as
// events.LambdaFunctionURLStreamingResponse writes it.
type prelude struct {
	StatusCode int               `json:"statusCode"`
	Headers    map[string]string `json:"headers"`
	Cookies    []string          `json:"cookies"`
}

// readPrelude reads up to and including the eight NUL bytes. JSON cannot contain a
// raw NUL, so the first run of eight ends the prelude.
func readPrelude(br *bufio.Reader) (prelude, error) {
	var buf []byte
	for len(buf) < maxPrelude {
		b, err := br.ReadByte()
		if err != nil {
			return prelude{}, fmt.Errorf("streamed response ended inside its prelude: %w", err)
		}
		buf = append(buf, b)
		if bytes.HasSuffix(buf, preludeEnd) {
			var p prelude
			if err := json.Unmarshal(buf[:len(buf)-len(preludeEnd)], &p); err != nil {
				return prelude{}, fmt.Errorf("streamed response prelude: %w", err)
			}
			if p.StatusCode == 0 {
				p.StatusCode = http.StatusOK
			}
			return p, nil
		}
	}
	return prelude{}, errors.New("streamed response prelude longer than 64 KiB")
}

// bufferedResponse is a payload format 2.0 response (events.APIGatewayV2HTTPResponse).
type bufferedResponse struct {
	StatusCode        int                 `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
	Cookies           []string            `json:"cookies"`
}

// parseBuffered reads a buffered answer the way API Gateway reads payload format
// 2.0: a JSON object with statusCode is a response; any other valid JSON is the
// body of a 200 application/json response.
func parseBuffered(b []byte) (*response, error) {
	if !json.Valid(b) {
		return nil, errors.New("the function's response is not JSON")
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(b, &probe) != nil || probe["statusCode"] == nil {
		return &response{status: http.StatusOK, header: http.Header{"Content-Type": {"application/json"}}, body: io.NopCloser(bytes.NewReader(b))}, nil
	}
	var br bufferedResponse
	if err := json.Unmarshal(b, &br); err != nil {
		return nil, fmt.Errorf("the function's response: %w", err)
	}
	body := []byte(br.Body)
	if br.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(br.Body); err != nil {
			return nil, fmt.Errorf("the function's base64 body: %w", err)
		}
	}
	h := http.Header{}
	for k, vs := range br.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for k, v := range br.Headers {
		h.Set(k, v)
	}
	h.Del("Content-Length") // the emulator's server sets its own
	return &response{status: br.StatusCode, header: h, cookies: br.Cookies, body: io.NopCloser(bytes.NewReader(body))}, nil
}
