package web

import "net/http"

// SeqPage reads ?limit= and ?after= for routes that page messages by seq: at
// most 1000 messages a page, 100 when limit is absent, after seq 0 when after
// is absent.
func SeqPage(r *http.Request) (limit int, after int64, err error) {
	if limit, err = QueryLimit(r, 100, 1000); err != nil {
		return 0, 0, err
	}
	if after, err = QuerySeq(r); err != nil {
		return 0, 0, err
	}
	return limit, after, nil
}

// Page cuts a list read with limit+1 rows (one more than a page, to learn
// whether another page follows) to limit, and reports whether it was longer.
func Page[T any](items []T, limit int) (page []T, more bool) {
	return items[:min(len(items), limit)], len(items) > limit
}
