// Package apierr is the gateway's error catalog: every error a client can see has a
// stable code with a type, an HTTP status, a safe message and a remediation. The wire
// body is OpenAI's {"error":{"message","type","param","code"}} so every OpenAI SDK
// raises its own error class with the message intact.
package apierr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Code is a stable, documented error code. Clients may switch on it.
type Code string

// Entry describes one code of the catalog.
type Entry struct {
	Code        Code   `json:"code"`
	Type        string `json:"type"`
	Status      int    `json:"status"`
	Message     string `json:"message"`
	Remediation string `json:"remediation"`
}

// Error is an error with a catalog code. Message is safe to show to the client;
// Cause is logged only.
type Error struct {
	Code    Code
	Message string
	Param   string
	Cause   error
	// RetryAfter, when positive, is sent as the Retry-After header (seconds).
	RetryAfter int
}

// E builds an *Error for code. An empty msg uses the catalog's message.
func E(code Code, msg string, cause error) *Error {
	return &Error{Code: code, Message: msg, Cause: cause}
}

// P builds an *Error naming the offending request parameter.
func P(code Code, param, msg string) *Error {
	return &Error{Code: code, Message: msg, Param: param}
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.message(), e.Cause)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.message())
}

func (e *Error) Unwrap() error { return e.Cause }

// Status is the HTTP status of the error's code.
func (e *Error) Status() int { return Lookup(e.Code).Status }

func (e *Error) message() string {
	if e.Message != "" {
		return e.Message
	}
	return Lookup(e.Code).Message
}

// From returns err as an *Error; anything that is not one fails closed to Internal,
// so a raw cause never reaches the client.
func From(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, context.Canceled) {
		return &Error{Code: ClientClosed, Cause: err}
	}
	return &Error{Code: Internal, Cause: err}
}

// wireBody is OpenAI's error body.
type wireBody struct {
	Error wireError `json:"error"`
}

type wireError struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    Code    `json:"code"`
}

// Body returns the OpenAI-shaped JSON body for e. Message and param are clipped
// (see Clip): a message may quote what the client sent, and nothing a client sends
// comes back unbounded.
func (e *Error) Body() []byte {
	w := wireBody{Error: wireError{Message: Clip(e.message(), MaxMessage), Type: Lookup(e.Code).Type, Code: e.Code}}
	if e.Param != "" {
		p := Clip(e.Param, MaxParam)
		w.Error.Param = &p
	}
	b, _ := json.Marshal(w)
	return b
}

// Write sends e as an HTTP response.
func (e *Error) Write(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if e.RetryAfter > 0 {
		h.Set("Retry-After", fmt.Sprint(e.RetryAfter))
	}
	w.WriteHeader(e.Status())
	w.Write(e.Body())
}
