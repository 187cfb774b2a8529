package billing

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"spass/shared/store"
)

// appendEntry appends e as one journal line, '\n' included, byte for byte what
// json.Encoder writes for it (TestAppendEntryMatchesEncoder): every request
// appends a row or two under the ledger's lock, and encoding a row by reflection
// cost more than copying it into the journal.
func appendEntry(b []byte, e *entry) []byte {
	b = append(b, `{"Seq":`...)
	b = strconv.AppendInt(b, e.Seq, 10)
	if e.Open {
		b = append(b, `,"Open":true`...)
	}
	b = append(b, `,"Row":`...)
	b = appendRow(b, &e.Row)
	return append(b, "}\n"...)
}

func appendRow(b []byte, r *store.LedgerRow) []byte {
	b = appendInt(b, `{"ID":`, r.ID)
	b = appendString(b, `,"TenantID":`, r.TenantID)
	b = appendString(b, `,"UserID":`, r.UserID)
	b = appendString(b, `,"RequestID":`, r.RequestID)
	b = appendString(b, `,"ParentRequestID":`, r.ParentRequestID)
	b = appendString(b, `,"Route":`, r.Route)
	b = appendString(b, `,"Surface":`, r.Surface)
	b = appendString(b, `,"Ref":`, r.Ref)
	b = appendString(b, `,"Agent":`, r.Agent)
	b = appendString(b, `,"Model":`, r.Model)
	b = appendString(b, `,"Backend":`, r.Backend)
	b = appendInt(b, `,"Tier":`, int64(r.Tier))
	b = appendInt(b, `,"PromptTokens":`, r.PromptTokens)
	b = appendInt(b, `,"CompletionTokens":`, r.CompletionTokens)
	b = appendInt(b, `,"CachedTokens":`, r.CachedTokens)
	b = appendInt(b, `,"CostNanoUSD":`, r.CostNanoUSD)
	b = appendInt(b, `,"CostNanoEUR":`, r.CostNanoEUR)
	b = appendInt(b, `,"LatencyMS":`, r.LatencyMS)
	b = appendInt(b, `,"Status":`, int64(r.Status))
	b = appendBool(b, `,"Estimated":`, r.Estimated)
	b = appendBool(b, `,"Redaction":`, r.Redaction)
	b = appendInt(b, `,"Redacted":`, int64(r.Redacted))
	b = appendInt(b, `,"CreatedAt":`, r.CreatedAt)
	return append(b, '}')
}

func appendInt(b []byte, key string, v int64) []byte {
	return strconv.AppendInt(append(b, key...), v, 10)
}

func appendBool(b []byte, key string, v bool) []byte {
	return strconv.AppendBool(append(b, key...), v)
}

// appendString writes s quoted. Ids, routes and model names are plain ASCII and
// are copied; anything else (escapes, HTML characters, other UTF-8) goes through
// encoding/json, which the replay's decoder mirrors.
func appendString(b []byte, key, s string) []byte {
	b = append(b, key...)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
