package turnbench

import (
	"encoding/json"
	"testing"
)

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{7: "7", 100: "100", 1000: "1,000", 10000: "10,000", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestMedian(t *testing.T) {
	if got := median([]float64{5, 1, 3}); got != 3 {
		t.Errorf("odd count: %v, want 3", got)
	}
	if got := median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("even count: %v, want 2.5", got)
	}
}

// TestMessageAlternates seeds user, then assistant, each a chat message whose
// content is Text.
func TestMessageAlternates(t *testing.T) {
	for i, wantRole := range []string{"user", "assistant", "user"} {
		role, body, tokens := Message(i)
		var m struct{ Role, Content string }
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		if role != wantRole || m.Role != wantRole || tokens != len(body)/4+4 || len(m.Content) < len(Text) {
			t.Errorf("message %d: %s %q, %d tokens", i, role, body[:40], tokens)
		}
	}
}
