package rag

import (
	"fmt"
	"strings"
)

// maxDiffCells bounds the LCS table of a diff's changed middle (lines × lines);
// past it the whole middle is shown as replaced, which is still a true diff.
const maxDiffCells = 4_000_000

// diffContext is how many unchanged lines surround each change.
const diffContext = 3

// op is one line of an edit script: ' ' kept, '-' removed, '+' added.
type op struct {
	kind byte
	line string
	a, b int // line numbers (0-based) in the old and the new text
}

// Diff returns the unified diff of two texts by line, with three lines of
// context, clipped to most bytes, and how many lines were added and removed. It is
// what a model (and the person behind it) reads before confirming an update, so it
// must be exact, not clever: common head and tail are trimmed, the middle is
// compared by longest common subsequence while that stays small, else replaced.
func Diff(old, new string, most int) (text string, added, removed int) {
	a, b := splitLines(old), splitLines(new)
	ops := editScript(a, b)
	var out strings.Builder
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		start := max(0, i-diffContext)
		end := i // extend over changes closer than two contexts apart
		for j := i; j < len(ops); j++ {
			if ops[j].kind != ' ' {
				end = j
			} else if j-end > 2*diffContext {
				break
			}
		}
		stop := min(len(ops), end+diffContext+1)
		writeHunk(&out, ops[start:stop])
		i = stop
	}
	for _, o := range ops {
		switch o.kind {
		case '+':
			added++
		case '-':
			removed++
		}
	}
	text = out.String()
	if len(text) > most {
		cut := strings.LastIndexByte(text[:most], '\n') + 1
		text = text[:cut] + fmt.Sprintf("... (diff clipped: %d more bytes)\n", len(text)-cut)
	}
	return text, added, removed
}

func writeHunk(out *strings.Builder, ops []op) {
	aStart, bStart, aLen, bLen := -1, -1, 0, 0
	for _, o := range ops {
		if o.kind != '+' {
			aLen++
			if aStart < 0 {
				aStart = o.a
			}
		}
		if o.kind != '-' {
			bLen++
			if bStart < 0 {
				bStart = o.b
			}
		}
	}
	// A hunk of only additions (or removals) names the line before it, as diff does.
	if aStart < 0 {
		aStart = ops[0].a - 1
	}
	if bStart < 0 {
		bStart = ops[0].b - 1
	}
	fmt.Fprintf(out, "@@ -%d,%d +%d,%d @@\n", aStart+1, aLen, bStart+1, bLen)
	for _, o := range ops {
		out.WriteByte(o.kind)
		out.WriteString(o.line)
		out.WriteByte('\n')
	}
}

// editScript turns a into b line by line.
func editScript(a, b []string) []op {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var ops []op
	for i := 0; i < pre; i++ {
		ops = append(ops, op{' ', a[i], i, i})
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	ops = append(ops, middle(ma, mb, pre, pre)...)
	for i := 0; i < suf; i++ {
		ai, bi := len(a)-suf+i, len(b)-suf+i
		ops = append(ops, op{' ', a[ai], ai, bi})
	}
	return ops
}

// middle diffs the changed middle by LCS, or as one replacement when too large.
func middle(a, b []string, ao, bo int) []op {
	var ops []op
	if len(a)*len(b) > maxDiffCells {
		for i, l := range a {
			ops = append(ops, op{'-', l, ao + i, bo})
		}
		for j, l := range b {
			ops = append(ops, op{'+', l, ao + len(a), bo + j})
		}
		return ops
	}
	// lcs[i][j] is the LCS length of a[i:] and b[j:].
	w := len(b) + 1
	lcs := make([]int32, (len(a)+1)*w)
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i*w+j] = lcs[(i+1)*w+j+1] + 1
			} else {
				lcs[i*w+j] = max(lcs[(i+1)*w+j], lcs[i*w+j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			ops = append(ops, op{' ', a[i], ao + i, bo + j})
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || lcs[(i+1)*w+j] >= lcs[i*w+j+1]): // removals first, as diff shows them
			ops = append(ops, op{'-', a[i], ao + i, bo + j})
			i++
		default:
			ops = append(ops, op{'+', b[j], ao + i, bo + j})
			j++
		}
	}
	return ops
}

// splitLines splits text into lines without their newlines; "" has none.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(normalizeNewlines(s), "\n"), "\n")
}
