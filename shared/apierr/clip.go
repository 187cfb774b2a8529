package apierr

import (
	"strconv"
	"unicode/utf8"
)

// Bounds of what an error body carries. A 10 MB tool name or model id must not come
// back in a 404: reflecting it doubles the traffic of whoever sends it and fills
// logs and clients with it.
const (
	MaxMessage = 1024 // bytes of a message on the wire
	MaxParam   = 128  // bytes of a param on the wire
	MaxQuoted  = 64   // bytes of a client's value quoted in a message
)

// Clip returns s cut to at most n bytes on a rune boundary, with "…" appended (and
// counted) when it was cut.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const more = "…"
	cut := n - len(more)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if cut < 0 {
		cut = 0
	}
	return s[:cut] + more
}

// Quote returns a client's value for a message: clipped to MaxQuoted bytes and
// Go-quoted, so control characters and quotes cannot forge the message around it.
func Quote(s string) string {
	return strconv.Quote(Clip(s, MaxQuoted))
}
