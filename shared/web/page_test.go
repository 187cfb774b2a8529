package web

import (
	"net/http/httptest"
	"slices"
	"testing"

	"spass/shared/apierr"
)

func TestSeqPage(t *testing.T) {
	for _, tc := range []struct {
		query     string
		limit     int
		after     int64
		wantParam string // the param of the error, "" for none
	}{
		{"", 100, 0, ""},
		{"?limit=5&after=42", 5, 42, ""},
		{"?limit=1001", 0, 0, "limit"},
		{"?after=-1", 0, 0, "after"},
		{"?limit=0&after=x", 0, 0, "limit"}, // limit is checked first
	} {
		limit, after, err := SeqPage(httptest.NewRequest("GET", "/m"+tc.query, nil))
		param := ""
		if err != nil {
			param = apierr.From(err).Param
		}
		if limit != tc.limit || after != tc.after || param != tc.wantParam {
			t.Errorf("%q: got %d, %d, error on %q; want %d, %d, error on %q", tc.query, limit, after, param, tc.limit, tc.after, tc.wantParam)
		}
	}
}

func TestPage(t *testing.T) {
	for _, tc := range []struct {
		items, want []int
		more        bool
	}{
		{[]int{1, 2, 3}, []int{1, 2}, true},
		{[]int{1, 2}, []int{1, 2}, false},
		{nil, nil, false},
	} {
		got, more := Page(tc.items, 2)
		if !slices.Equal(got, tc.want) || more != tc.more {
			t.Errorf("Page(%v, 2) = %v, %v; want %v, %v", tc.items, got, more, tc.want, tc.more)
		}
	}
}
