// Package lambda emulates AWS Lambda for the bundle's real bootstrap binaries: it
// starts them as processes, speaks the Lambda Runtime API to each (next invocation,
// buffered and streamed responses, function and init errors, the extension
// registration behind SIGTERM), and turns HTTP requests into API Gateway HTTP API or
// Function URL events (payload format 2.0) and their answers back into HTTP.
//
// The AWS Runtime Interface Emulator cannot be installed here, buffers streamed
// responses and breaks on concurrent invokes. This one runs one process per
// concurrent invocation, as Lambda does, keeps finished ones warm for the next
// request, and relays a streamed body write by write.
package lambda

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"sync"
	"time"
)

// Function is one Lambda function the emulator runs.
type Function struct {
	// Name is the function's name (template.yaml's LogicalId).
	Name string
	// Path is the bootstrap executable.
	Path string
	// Env is every instance's environment (KEY=value) under the Lambda variables.
	Env []string
	// Timeout bounds one invocation; the instance is killed past it. Zero means 30 s.
	Timeout time.Duration
	// MemoryMB is reported to the function as AWS_LAMBDA_FUNCTION_MEMORY_SIZE;
	// zero means 128.
	MemoryMB int
	// MaxConcurrency caps the function's instances; requests beyond it wait for a
	// free one. Zero means 16.
	MaxConcurrency int
}

// Route sends the requests matching Pattern to a function.
type Route struct {
	// Pattern is a net/http ServeMux pattern: "GET /v1/models/{model}".
	Pattern string
	// Function names the Function that serves the route.
	Function string
	// URL invokes the function as its Function URL (InvokeMode RESPONSE_STREAM)
	// would, so the response may stream; otherwise as an HTTP API route, buffered.
	URL bool
}

// Emulator is an http.Handler serving a set of routes from Lambda functions.
type Emulator struct {
	pools  map[string]*pool
	mux    *http.ServeMux
	logw   io.Writer // shared by the emulator's logger and the instances' output
	logger *log.Logger
	tmp    string

	closeOnce sync.Once
}

// New returns an emulator for fns and routes. No process starts before the first
// request a function gets; logw receives the instances' output and the emulator's own
// messages (nil means os.Stderr).
func New(fns []Function, routes []Route, logw io.Writer) (e *Emulator, err error) {
	if logw == nil {
		logw = os.Stderr
	}
	tmp, err := os.MkdirTemp("", "lambda-emulator-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	lw := &lockedWriter{w: logw}
	e = &Emulator{pools: map[string]*pool{}, logw: lw, logger: log.New(lw, "lambda: ", 0), tmp: tmp}
	for _, fn := range fns {
		if fn.Name == "" || fn.Path == "" {
			return nil, errors.New("lambda: a function needs a name and a path")
		}
		if _, dup := e.pools[fn.Name]; dup {
			return nil, fmt.Errorf("lambda: function %s given twice", fn.Name)
		}
		e.pools[fn.Name] = newPool(fn, e)
	}
	if e.mux, err = e.newMux(routes); err != nil {
		return nil, err
	}
	return e, nil
}

// Handler serves another set of routes from the same functions (and their warm
// instances): lambda-local serves the HTTP API alone on a second address this way.
func (e *Emulator) Handler(routes []Route) (http.Handler, error) {
	return e.newMux(routes)
}

// newMux routes each route to its function's pool.
func (e *Emulator) newMux(routes []Route) (mux *http.ServeMux, err error) {
	mux = http.NewServeMux()
	defer func() {
		if p := recover(); p != nil { // ServeMux panics on an invalid or conflicting pattern
			mux, err = nil, fmt.Errorf("lambda: %v", p)
		}
	}()
	for _, rt := range routes {
		p := e.pools[rt.Function]
		if p == nil {
			return nil, fmt.Errorf("lambda: route %q names unknown function %q", rt.Pattern, rt.Function)
		}
		mux.Handle(rt.Pattern, e.route(rt, p))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeMessage(w, http.StatusNotFound, "Not Found") // what an HTTP API answers for an unknown route
	})
	return mux, nil
}

// ServeHTTP routes r to its function.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) { e.mux.ServeHTTP(w, r) }

// Started reports how many instances (processes) of the named function have been
// started so far: one per cold start.
func (e *Emulator) Started(name string) int {
	if p := e.pools[name]; p != nil {
		return p.startedCount()
	}
	return 0
}

// Close stops every instance: SIGTERM to those that registered an extension (as
// Lambda does), SIGKILL to the rest and to any still running shortly after.
func (e *Emulator) Close() error {
	e.closeOnce.Do(func() {
		var wg sync.WaitGroup
		for _, p := range e.pools {
			wg.Add(1)
			go func() { defer wg.Done(); p.close() }()
		}
		wg.Wait()
		os.RemoveAll(e.tmp)
	})
	return nil
}

// route serves one route: the request becomes an event, the event an invocation,
// and its outcome the response.
func (e *Emulator) route(rt Route, p *pool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPayload))
		if err != nil {
			writeMessage(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
			return
		}
		event, err := newEvent(r, rt, body)
		if err != nil {
			writeMessage(w, http.StatusBadRequest, err.Error())
			return
		}
		inv := newInvocation(event, rt.URL)
		if err := p.dispatch(r.Context(), inv); err != nil {
			if r.Context().Err() == nil {
				e.logger.Printf("[%s] %v", p.fn.Name, err)
				writeMessage(w, http.StatusBadGateway, "Internal Server Error")
			}
			return
		}
		// Wait for the outcome even if the client left: the function runs to its end
		// (or its timeout) regardless, as on Lambda, and a stream must be drained.
		o := <-inv.out
		if o.err != nil {
			e.logger.Printf("[%s] invocation %s: %v", p.fn.Name, inv.id, o.err)
			status, msg := http.StatusBadGateway, "Internal Server Error"
			if errors.Is(o.err, errTimeout) {
				status, msg = http.StatusGatewayTimeout, "Endpoint request timed out"
			}
			writeMessage(w, status, msg)
			return
		}
		w.Header().Set("X-Amzn-Requestid", inv.id)
		if err := writeResponse(w, o.resp); err != nil {
			e.logger.Printf("[%s] invocation %s: stream cut: %v", p.fn.Name, inv.id, err)
			panic(http.ErrAbortHandler) // the client must see a broken stream, not a complete one
		}
	})
}
