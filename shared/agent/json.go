package agent

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
)

// JSON is a JSON document kept in a TEXT column: it scans from text or bytes
// (SQLite hands back either, by how the value was written), is stored as text,
// and marshals as itself.
type JSON []byte

// MarshalJSON writes the document itself; empty is null.
func (j JSON) MarshalJSON() ([]byte, error) {
	if len(j) == 0 {
		return []byte("null"), nil
	}
	return j, nil
}

// UnmarshalJSON keeps a copy of the document.
func (j *JSON) UnmarshalJSON(b []byte) error {
	*j = append((*j)[:0], b...)
	return nil
}

// Scan reads a TEXT or BLOB column.
func (j *JSON) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*j = nil
	case string:
		*j = JSON(v)
	case []byte:
		*j = append(JSON(nil), v...)
	default:
		return fmt.Errorf("agent.JSON: cannot scan %T", src)
	}
	return nil
}

// Value stores the document as text.
func (j JSON) Value() (driver.Value, error) { return string(j), nil }

var _ json.Marshaler = JSON(nil)
