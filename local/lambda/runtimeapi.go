package lambda

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
)

// Runtime API names, as in aws-lambda-go's runtime_api_client.go and
// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html.
const (
	headerRequestID     = "Lambda-Runtime-Aws-Request-Id"
	headerDeadline      = "Lambda-Runtime-Deadline-Ms"
	headerFunctionARN   = "Lambda-Runtime-Invoked-Function-Arn"
	headerTraceID       = "Lambda-Runtime-Trace-Id"
	headerErrorType     = "Lambda-Runtime-Function-Error-Type"
	trailerErrorType    = "Lambda-Runtime-Function-Error-Type"
	trailerErrorBody    = "Lambda-Runtime-Function-Error-Body"
	headerExtensionID   = "Lambda-Extension-Identifier"
	headerExtensionName = "Lambda-Extension-Name"
	// integrationResponse is the content type of a streamed HTTP response: a JSON
	// prelude {statusCode, headers, cookies}, eight NUL bytes, then the body.
	integrationResponse = "application/vnd.awslambda.http-integration-response"
)

// runtimeAPI is the instance's Runtime API (and the part of the Extensions API that
// aws-lambda-go's WithEnableSIGTERM uses).
func (in *instance) runtimeAPI() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", in.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", in.response)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", in.invocationError)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", in.initError)
	mux.HandleFunc("POST /2020-01-01/extension/register", in.register)
	mux.HandleFunc("GET /2020-01-01/extension/event/next", in.extensionNext)
	return mux
}

// next blocks until the pool hands the instance an invocation, then sends its
// event. Asking for the next event is also how a runtime says it finished the last.
func (in *instance) next(w http.ResponseWriter, r *http.Request) {
	if prev := in.idle(); prev != nil {
		prev.fail(errNoAnswer)
	}
	var inv *invocation
	select {
	case inv = <-in.p.work:
	case <-r.Context().Done(): // the process died or is being stopped
		return
	}
	in.take(inv)
	h := w.Header()
	h.Set(headerRequestID, inv.id)
	h.Set(headerDeadline, strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set(headerFunctionARN, in.p.arn())
	h.Set(headerTraceID, "Root=1-00000000-"+inv.id[:8]+inv.id[9:13]+inv.id[14:18]+";Sampled=0")
	h.Set("Content-Type", "application/json")
	w.Write(inv.event)
}

// response takes the function's answer. An HTTP API invocation is buffered: the
// body is a payload format 2.0 response. A Function URL invocation is streamed: the
// body is relayed to the client as it arrives, and an error the function hits
// mid-stream comes as trailers after it.
func (in *instance) response(w http.ResponseWriter, r *http.Request) {
	inv := in.answering(r.PathValue("id"))
	if inv == nil {
		writeRuntimeError(w, http.StatusBadRequest, "InvalidRequestID", "no invocation with this id is in flight")
		return
	}
	defer inv.finish()
	integration := r.Header.Get("Content-Type") == integrationResponse
	if !inv.streamed {
		// Spare before the client can see the answer and send its next request, so
		// that request waits for this instance instead of cold-starting another.
		in.p.setSpare(in, true)
		if integration { // fail now rather than when the stream ends
			inv.settle(outcome{err: errors.New("the function streamed its response to an HTTP API event; only a Function URL with InvokeMode RESPONSE_STREAM can stream")})
		}
		b, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
		switch {
		case err != nil:
			inv.settle(outcome{err: err})
		case len(b) > maxPayload:
			inv.settle(outcome{err: errors.New("response payload larger than 6 MB")})
			writeRuntimeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "response payload larger than 6 MB")
			return
		default:
			resp, err := parseBuffered(b)
			inv.settle(outcome{resp: resp, err: err})
		}
		accepted(w)
		return
	}

	br := bufio.NewReader(r.Body)
	resp := &response{status: http.StatusOK, header: http.Header{}}
	if integration {
		p, err := readPrelude(br)
		if err != nil {
			in.p.setSpare(in, true)
			inv.settle(outcome{err: err})
			io.Copy(io.Discard, br)
			accepted(w)
			return
		}
		resp.status, resp.cookies = p.StatusCode, p.Cookies
		for k, v := range p.Headers {
			resp.header.Set(k, v)
		}
		resp.header.Del("Content-Length") // the body is relayed chunked
	} else if ct := r.Header.Get("Content-Type"); ct != "" {
		resp.header.Set("Content-Type", ct)
	}
	pr, pw := io.Pipe()
	resp.body = pr
	inv.settle(outcome{resp: resp})
	err := relay(pw, br)
	if err == nil {
		err = trailerError(r.Trailer) // trailers are readable once the body hit EOF
	}
	in.p.setSpare(in, true) // before the client sees the end of the stream
	pw.CloseWithError(err)
	accepted(w)
}

// relay copies the streamed body into the client's pipe read by read, so every
// chunk the function sends is passed on at once. If the client left (the pipe is
// closed) it keeps reading, so the function can finish and ask for its next event.
func relay(pw *io.PipeWriter, body io.Reader) error {
	buf := make([]byte, 32<<10)
	gone := false
	for {
		n, err := body.Read(buf)
		if n > 0 && !gone {
			if _, werr := pw.Write(buf[:n]); werr != nil {
				gone = true
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// trailerError decodes the error trailers aws-lambda-go sends when the streamed
// body's reader fails.
func trailerError(t http.Header) error {
	typ := t.Get(trailerErrorType)
	if typ == "" {
		return nil
	}
	fe := &FunctionError{Type: typ}
	if b, err := base64.StdEncoding.DecodeString(t.Get(trailerErrorBody)); err == nil {
		json.Unmarshal(b, fe)
	}
	return fe
}

// invocationError takes an error the function returned or panicked with.
func (in *instance) invocationError(w http.ResponseWriter, r *http.Request) {
	inv := in.answering(r.PathValue("id"))
	if inv == nil {
		writeRuntimeError(w, http.StatusBadRequest, "InvalidRequestID", "no invocation with this id is in flight")
		return
	}
	in.p.setSpare(in, true) // before the client can send its next request
	inv.settle(outcome{err: readFunctionError(r)})
	inv.finish()
	accepted(w)
}

// initError records why the runtime could not start; the process exits next.
func (in *instance) initError(w http.ResponseWriter, r *http.Request) {
	fe := readFunctionError(r)
	in.mu.Lock()
	in.initErr = fe
	in.mu.Unlock()
	accepted(w)
}

func readFunctionError(r *http.Request) *FunctionError {
	fe := &FunctionError{}
	json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(fe)
	if fe.Type == "" {
		fe.Type = r.Header.Get(headerErrorType)
	}
	if fe.Type == "" {
		fe.Type = "Unhandled"
	}
	return fe
}

// register accepts an extension. aws-lambda-go registers one that subscribes to no
// events, only so that Lambda sends SIGTERM before SIGKILL.
func (in *instance) register(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
	in.mu.Lock()
	in.extension = true
	in.mu.Unlock()
	w.Header().Set(headerExtensionID, newID())
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{
		"functionName": in.p.fn.Name, "functionVersion": "$LATEST", "handler": r.Header.Get(headerExtensionName),
	})
}

// extensionNext blocks: an extension subscribed to no events never gets one.
func (in *instance) extensionNext(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-in.exited:
	}
}

func accepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, `{"status":"OK"}`)
}

func writeRuntimeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(FunctionError{Type: typ, Message: msg})
}
