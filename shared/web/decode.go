package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/tidwall/gjson"

	"spass/shared/apierr"
)

// Decode reads a JSON object body into v, for the gateway's own schemas (/c1,
// /a1): unknown fields and a user_id are refused with the catalog's codes, so a
// typo never passes silently and end users are named by SPASS-User-Id only.
func Decode(body []byte, v any) error {
	t := bytes.TrimLeft(body, " \t\r\n")
	if len(t) == 0 || t[0] != '{' || !gjson.ValidBytes(body) {
		return apierr.E(apierr.InvalidJSON, "", nil)
	}
	if gjson.GetBytes(body, "user_id").Exists() {
		return apierr.P(apierr.UserIDInBody, "user_id", "")
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	err := d.Decode(v)
	if err == nil {
		if _, extra := d.Token(); extra != io.EOF {
			return apierr.E(apierr.InvalidJSON, "", nil)
		}
		return nil
	}
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te):
		return apierr.P(apierr.InvalidRequest, te.Field, te.Field+" has the wrong type.")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		if len(name) > 64 {
			name = name[:64] + "…"
		}
		return apierr.P(apierr.InvalidRequest, name, "Unknown field "+name+".")
	}
	return apierr.E(apierr.InvalidRequest, "", err)
}
