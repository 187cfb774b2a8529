package billing

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"spass/shared/store"
)

// TestAppendEntryMatchesEncoder: the hand-written journal line is what
// json.Encoder writes, for every field of LedgerRow (a field added to the row
// and not to appendRow fails here) and for strings that need escaping.
func TestAppendEntryMatchesEncoder(t *testing.T) {
	strs := []string{"", "acme", "req_01HX", "a\"b\\c", "tab\there\n", "<script>&", "héllo 世界", "\u2028\u2029", "bad \xff utf8", "emoji 🙂"}
	for i, s := range strs {
		var row store.LedgerRow
		v := reflect.ValueOf(&row).Elem()
		for f := 0; f < v.NumField(); f++ {
			switch fv := v.Field(f); fv.Kind() {
			case reflect.String:
				fv.SetString(s + strs[(i+f)%len(strs)])
			case reflect.Int, reflect.Int64:
				fv.SetInt(int64((f + 1) * (i - 3) * 1_000_003))
			case reflect.Bool:
				fv.SetBool((i+f)%2 == 0)
			default:
				t.Fatalf("LedgerRow.%s: kind %s not handled by appendRow", v.Type().Field(f).Name, fv.Kind())
			}
		}
		for _, e := range []entry{{Seq: int64(i), Row: row}, {Seq: int64(i) << 40, Open: true, Row: row}, {Seq: 1}} {
			var want bytes.Buffer
			if err := json.NewEncoder(&want).Encode(e); err != nil {
				t.Fatal(err)
			}
			if got := appendEntry(nil, &e); !bytes.Equal(got, want.Bytes()) {
				t.Errorf("string %q:\n got %s\nwant %s", s, got, want.Bytes())
			}
		}
	}
}

func BenchmarkAppendEntry(b *testing.B) {
	e := entry{Seq: 12345, Row: store.LedgerRow{TenantID: "acme", UserID: "user-1", RequestID: "req_01HXABCDEFGHJKMNPQRSTVWXYZ", Route: "POST /v1/chat/completions",
		Surface: "v1", Model: "local-small", Backend: "vllm-a", PromptTokens: 120, CompletionTokens: 16, CostNanoUSD: 4200, CostNanoEUR: 3900, LatencyMS: 21, Status: 200, CreatedAt: 1764780000000}}
	b.Run("appendEntry", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf = appendEntry(buf[:0], &e)
		}
	})
	b.Run("json.Encoder", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		for b.Loop() {
			buf.Reset()
			enc.Encode(e)
		}
	})
}
