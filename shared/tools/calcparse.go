package tools

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Calculator limits. Expressions come from a model, so their size and shape are
// bounded before any work is done; the depth limit also bounds the parser's and the
// evaluator's recursion.
const (
	calcMaxLen   = 1000
	calcMaxDepth = 64
)

// calcNode is one node of a parsed expression.
type calcNode struct {
	kind byte // 'n' number, 'c' constant, 'u' unary minus, 'b' binary, 'f' call
	op   byte // binary operator
	val  float64
	name string
	args []*calcNode // operands: unary 1, binary 2, call n
}

// calcToken is one lexeme; pos is its 1-based column, for error messages.
type calcToken struct {
	kind byte // 'n' number, 'i' identifier, 'o' operator or punctuation, 0 end
	text string
	num  float64
	pos  int
}

// calcArity gives each function's arity: min and max arguments (-1: any number).
func calcArity(name string) (lo, hi int, ok bool) {
	switch name {
	case "sqrt", "abs", "ln", "log10", "log2", "exp", "sin", "cos", "tan",
		"asin", "acos", "atan", "floor", "ceil":
		return 1, 1, true
	case "round":
		return 1, 2, true
	case "min", "max":
		return 1, -1, true
	}
	return 0, 0, false
}

// calcLex splits an expression into tokens. It accepts the spellings models
// produce besides ASCII: "**" for power, and ×, ÷, − for *, /, -.
func calcLex(s string) ([]calcToken, error) {
	var toks []calcToken
	col := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		col++
		pos := col
		switch {
		case unicode.IsSpace(r):
			i += size
		case r >= '0' && r <= '9' || r == '.':
			j := scanNumber(s, i)
			text := s[i:j]
			if j < len(s) && s[j] == '.' {
				return nil, calcSyntax(pos, "malformed number %q", s[i:j+1])
			}
			if j < len(s) && isIdentByte(s[j]) {
				return nil, calcSyntax(pos, "a number cannot be followed directly by a name (write multiplication as *, e.g. 2*pi)")
			}
			v, err := strconv.ParseFloat(text, 64)
			if math.IsInf(v, 0) {
				return nil, Errorf("overflow", "the number %s at column %d is too large", text, pos)
			}
			if err != nil && !errors.Is(err, strconv.ErrRange) { // underflow to 0 is fine
				return nil, calcSyntax(pos, "malformed number %q", text)
			}
			toks = append(toks, calcToken{kind: 'n', text: text, num: v, pos: pos})
			col += len(text) - 1
			i = j
		case r < utf8.RuneSelf && isIdentByte(byte(r)):
			j := i
			for j < len(s) && (isIdentByte(s[j]) || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			toks = append(toks, calcToken{kind: 'i', text: strings.ToLower(s[i:j]), pos: pos})
			col += j - i - 1
			i = j
		case r == '*' && strings.HasPrefix(s[i:], "**"):
			toks = append(toks, calcToken{kind: 'o', text: "^", pos: pos})
			col++
			i += 2
		case strings.ContainsRune("+-*/%^(),", r):
			toks = append(toks, calcToken{kind: 'o', text: string(r), pos: pos})
			i += size
		case r == '×':
			toks = append(toks, calcToken{kind: 'o', text: "*", pos: pos})
			i += size
		case r == '÷':
			toks = append(toks, calcToken{kind: 'o', text: "/", pos: pos})
			i += size
		case r == '−':
			toks = append(toks, calcToken{kind: 'o', text: "-", pos: pos})
			i += size
		default:
			return nil, calcSyntax(pos, "unexpected character %q", r)
		}
	}
	return append(toks, calcToken{pos: col + 1}), nil
}

// scanNumber returns the end of the decimal literal at s[i:]: digits, an optional
// fraction and an optional exponent (only when digits follow the e).
func scanNumber(s string, i int) int {
	digits := func(j int) int {
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		return j
	}
	j := digits(i)
	if j < len(s) && s[j] == '.' {
		j = digits(j + 1)
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if e := digits(k); e > k {
			j = e
		}
	}
	return j
}

func isIdentByte(b byte) bool { return b == '_' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }

func calcSyntax(pos int, format string, args ...any) *Error {
	e := Errorf("syntax_error", format, args...)
	e.Message += " at column " + strconv.Itoa(pos)
	return e
}

// calcParser is a Pratt parser over the token list.
type calcParser struct {
	toks []calcToken
	i    int
}

func (p *calcParser) peek() calcToken { return p.toks[p.i] }
func (p *calcParser) next() calcToken { t := p.toks[p.i]; p.i++; return t }

// Binding powers. Unary minus binds looser than ^, so -2^2 is -(2^2) = -4 as in
// mathematics (and Python); ^ is right-associative, so 2^3^2 is 2^(3^2) = 512.
const (
	bpUnary = 30
	bpPow   = 40
)

func infixPower(op string) (left, right int, ok bool) {
	switch op {
	case "+", "-":
		return 10, 11, true
	case "*", "/", "%":
		return 20, 21, true
	case "^":
		return bpPow, bpPow, true // right-assoc: the right side may take another ^
	}
	return 0, 0, false
}

// calcParse parses a whole expression.
func calcParse(s string) (*calcNode, error) {
	if utf8.RuneCountInString(s) > calcMaxLen {
		return nil, Errorf("too_complex", "the expression is longer than %d characters", calcMaxLen)
	}
	toks, err := calcLex(s)
	if err != nil {
		return nil, err
	}
	p := &calcParser{toks: toks}
	if p.peek().kind == 0 {
		return nil, Errorf("syntax_error", "the expression is empty")
	}
	n, err := p.expr(0, 0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != 0 {
		return nil, calcSyntax(t.pos, "unexpected %q", t.text)
	}
	return n, nil
}

func (p *calcParser) expr(minBP, depth int) (*calcNode, error) {
	if depth > calcMaxDepth {
		return nil, Errorf("too_complex", "the expression is nested more than %d levels deep", calcMaxDepth)
	}
	left, err := p.prefix(depth)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != 'o' {
			if t.kind != 0 {
				return nil, calcSyntax(t.pos, "expected an operator before %q (write multiplication as *)", t.text)
			}
			return left, nil
		}
		lbp, rbp, ok := infixPower(t.text)
		if !ok || lbp < minBP {
			return left, nil
		}
		p.next()
		right, err := p.expr(rbp, depth+1)
		if err != nil {
			return nil, err
		}
		left = &calcNode{kind: 'b', op: t.text[0], args: []*calcNode{left, right}}
	}
}

func (p *calcParser) prefix(depth int) (*calcNode, error) {
	t := p.next()
	switch {
	case t.kind == 'n':
		return &calcNode{kind: 'n', val: t.num}, nil
	case t.kind == 'i':
		return p.ident(t, depth)
	case t.text == "-" || t.text == "+":
		operand, err := p.expr(bpUnary, depth+1)
		if err != nil || t.text == "+" {
			return operand, err
		}
		return &calcNode{kind: 'u', args: []*calcNode{operand}}, nil
	case t.text == "(":
		n, err := p.expr(0, depth+1)
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.text != ")" {
			return nil, Errorf("syntax_error", "missing ) for the ( at column %d", t.pos)
		}
		return n, nil
	case t.kind == 0:
		return nil, calcSyntax(t.pos, "the expression ends where a number was expected")
	}
	return nil, calcSyntax(t.pos, "unexpected %q where a number was expected", t.text)
}

func (p *calcParser) ident(t calcToken, depth int) (*calcNode, error) {
	lo, hi, isFunc := calcArity(t.text)
	if p.peek().text != "(" {
		if t.text == "pi" || t.text == "e" {
			return &calcNode{kind: 'c', name: t.text}, nil
		}
		if isFunc {
			return nil, calcSyntax(t.pos, "%s needs its arguments in parentheses, e.g. %s(2)", t.text, t.text)
		}
		return nil, calcSyntax(t.pos, "unknown name %q (constants: pi, e)", t.text)
	}
	if !isFunc {
		return nil, calcSyntax(t.pos, "unknown function %q (functions: sqrt, abs, ln, log10, log2, exp, sin, cos, tan, asin, acos, atan, floor, ceil, round, min, max)", t.text)
	}
	p.next() // (
	n := &calcNode{kind: 'f', name: t.text}
	if p.peek().text != ")" {
		for {
			arg, err := p.expr(0, depth+1)
			if err != nil {
				return nil, err
			}
			n.args = append(n.args, arg)
			if p.peek().text != "," {
				break
			}
			p.next()
		}
	}
	if c := p.next(); c.text != ")" {
		return nil, calcSyntax(c.pos, "expected , or ) in the arguments of %s", t.text)
	}
	if len(n.args) < lo || hi >= 0 && len(n.args) > hi {
		want := strconv.Itoa(lo)
		if hi < 0 {
			want = "at least " + want
		} else if hi != lo {
			want += " or " + strconv.Itoa(hi)
		}
		return nil, calcSyntax(t.pos, "%s takes %s argument(s), got %d", t.text, want, len(n.args))
	}
	return n, nil
}

// String renders the node the way it was understood: every operator's operands that
// are themselves operations get parentheses, so precedence is visible.
func (n *calcNode) String() string {
	switch n.kind {
	case 'n':
		return strconv.FormatFloat(n.val, 'g', -1, 64)
	case 'c':
		return n.name
	case 'u':
		return "-" + n.args[0].operand(false)
	case 'b':
		return n.args[0].operand(n.op == '^') + " " + string(n.op) + " " + n.args[1].operand(false)
	}
	parts := make([]string, len(n.args))
	for i, a := range n.args {
		parts[i] = a.String()
	}
	return n.name + "(" + strings.Join(parts, ", ") + ")"
}

// operand renders n as an operand; a negation is bracketed as a power's base.
func (n *calcNode) operand(powBase bool) string {
	if n.kind == 'b' || n.kind == 'u' && powBase {
		return "(" + n.String() + ")"
	}
	return n.String()
}
