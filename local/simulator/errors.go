package simulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// apiError is an error response in OpenAI's shape, which every
// OpenAI-compatible backend imitates and which gateways and SDKs parse to
// decide whether to retry or fail over.
type apiError struct {
	status  int
	Message string
	Type    string
	Param   string // empty encodes as null
	Code    string // empty encodes as null
}

func (e apiError) MarshalJSON() ([]byte, error) {
	type detail struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	}
	return json.Marshal(struct {
		Error detail `json:"error"`
	}{detail{e.Message, e.Type, nullIfEmpty(e.Param), nullIfEmpty(e.Code)}})
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func writeError(w http.ResponseWriter, e apiError) {
	writeJSON(w, e.status, e)
}

// writeJSON writes v as a complete JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	body, err := prepareJSON(w, v)
	if err != nil {
		return err
	}
	w.WriteHeader(status)
	_, err = w.Write(body)
	return err
}

// prepareJSON encodes v and sets the headers for sending it, including an
// explicit Content-Length so that clients can tell a whole body from a cut
// one.
func prepareJSON(w http.ResponseWriter, v any) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only reachable through a programming error in this package.
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return nil, err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	return body, nil
}

func errInvalidJSON(err error) apiError {
	return apiError{
		status:  http.StatusBadRequest,
		Message: fmt.Sprintf("We could not parse the JSON body of your request: %v", err),
		Type:    "invalid_request_error",
	}
}

func errMissingParam(param string) apiError {
	return apiError{
		status:  http.StatusBadRequest,
		Message: fmt.Sprintf("Missing required parameter: '%s'.", param),
		Type:    "invalid_request_error",
		Param:   param,
		Code:    "missing_required_parameter",
	}
}

func errInvalidParam(param, format string, args ...any) apiError {
	return apiError{
		status:  http.StatusBadRequest,
		Message: fmt.Sprintf(format, args...),
		Type:    "invalid_request_error",
		Param:   param,
		Code:    "invalid_value",
	}
}

func errModelNotFound(model string) apiError {
	return apiError{
		status:  http.StatusNotFound,
		Message: fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", model),
		Type:    "invalid_request_error",
		Code:    "model_not_found",
	}
}

func errUnauthorized() apiError {
	return apiError{
		status:  http.StatusUnauthorized,
		Message: "Incorrect API key provided.",
		Type:    "invalid_request_error",
		Code:    "invalid_api_key",
	}
}

func errServer() apiError {
	return apiError{
		status:  http.StatusInternalServerError,
		Message: "The server had an error while processing your request. Sorry about that!",
		Type:    "server_error",
	}
}

func errRateLimited() apiError {
	return apiError{
		status:  http.StatusTooManyRequests,
		Message: "Rate limit reached for requests. Please try again in 1s.",
		Type:    "requests",
		Code:    "rate_limit_exceeded",
	}
}

func errRequestTooLarge(limit int64) apiError {
	return apiError{
		status:  http.StatusRequestEntityTooLarge,
		Message: fmt.Sprintf("Request body exceeds %d bytes.", limit),
		Type:    "invalid_request_error",
	}
}

func errNotFound(r *http.Request) apiError {
	return apiError{
		status:  http.StatusNotFound,
		Message: fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path),
		Type:    "invalid_request_error",
	}
}
