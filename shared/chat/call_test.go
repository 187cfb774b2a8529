package chat

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReadAllMatchesLimitedReadAll(t *testing.T) {
	for _, n := range []int{0, 1, 511, 512, 513, 4000} {
		data := strings.Repeat("x", n)
		for _, limit := range []int64{1, 100, 512, 10000} {
			for _, size := range []int64{-1, 0, int64(n), int64(n) + 7, int64(n / 2)} { // a wrong Content-Length must not matter
				want, _ := io.ReadAll(io.LimitReader(strings.NewReader(data), limit))
				got, err := readAll(iotest.HalfReader(strings.NewReader(data)), size, limit)
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("readAll(%d bytes, size %d, limit %d) = %d bytes, %v; want %d", n, size, limit, len(got), err, len(want))
				}
			}
		}
	}
	if _, err := readAll(iotest.ErrReader(io.ErrUnexpectedEOF), -1, 10); err != io.ErrUnexpectedEOF {
		t.Errorf("a read error is %v, want it returned", err)
	}
}
