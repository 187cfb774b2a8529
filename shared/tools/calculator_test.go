package tools

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func calc(expr string) (map[string]any, error) {
	args, _ := json.Marshal(map[string]string{"expression": expr})
	out, err := Calculator().Execute(context.Background(), testPrincipal, args)
	if err != nil {
		return nil, err
	}
	return out.(map[string]any), nil
}

func TestCalculator(t *testing.T) {
	tests := []struct {
		expr string
		want float64
		norm string // the parsed form, when worth pinning
	}{
		{"1 + 2 * 3", 7, "1 + (2 * 3)"},
		{"(1 + 2) * 3", 9, "(1 + 2) * 3"},
		{"10 - 4 - 3", 3, "(10 - 4) - 3"}, // left-associative
		{"100 / 10 / 5", 2, "(100 / 10) / 5"},
		{"2^3^2", 512, "2 ^ (3 ^ 2)"}, // right-associative
		{"2**3", 8, "2 ^ 3"},
		{"-2^2", -4, "-(2 ^ 2)"}, // unary minus binds looser than ^, as in mathematics
		{"(-2)^2", 4, "(-2) ^ 2"},
		{"2^-1", 0.5, "2 ^ -1"},
		{"-3 * -2", 6, "-3 * -2"},
		{"--3", 3, "--3"},
		{"+5 - +2", 3, "5 - 2"},
		{"7 % 3", 1, ""},
		{"-7 % 3", -1, ""}, // sign of the dividend
		{"5.5 % 2", 1.5, ""},
		{"0.1 + 0.2", 0.3, ""},
		{"1.5e3 + .5", 1500.5, "1500 + 0.5"},
		{"1e-400", 0, ""},
		{"sqrt(16) + abs(-3)", 7, "sqrt(16) + abs(-3)"},
		{"ln(e)", 1, ""},
		{"log10(1000)", 3, ""},
		{"log2(1024)", 10, ""},
		{"exp(0)", 1, ""},
		{"sin(pi/2)", 1, "sin(pi / 2)"},
		{"cos(0)", 1, ""},
		{"tan(0)", 0, ""},
		{"asin(1)", math.Pi / 2, ""},
		{"acos(1)", 0, ""},
		{"atan(1) * 4", math.Pi, ""},
		{"floor(-2.5) + ceil(2.1)", 0, ""},
		{"round(2.5)", 3, ""},
		{"round(3.14159, 2)", 3.14, "round(3.14159, 2)"},
		{"round(1234, -2)", 1200, ""},
		{"min(3, 1, 2)", 1, "min(3, 1, 2)"},
		{"max(4)", 4, ""},
		{"max(1, 2^10, -5)", 1024, ""},
		{"PI", math.Pi, "pi"},
		{"2 × 3 ÷ 4 − 1", 0.5, "((2 * 3) / 4) - 1"},
		{"  ( ( 42 ) )  ", 42, "42"},
		{"10^308", 1e308, ""},
		{"0^0", 1, ""},
		{"(-8)^(1/1)", -8, ""},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			got, err := calc(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			if r := got["result"].(float64); math.Abs(r-tc.want) > 1e-12*math.Max(1, math.Abs(tc.want)) {
				t.Errorf("result = %v, want %v", r, tc.want)
			}
			if tc.norm != "" && got["expression"] != tc.norm {
				t.Errorf("expression = %q, want %q", got["expression"], tc.norm)
			}
		})
	}
}

func TestCalculatorRefuses(t *testing.T) {
	deep := strings.Repeat("(", 1000) + "1" + strings.Repeat(")", 1000)
	tests := []struct {
		name, expr, code, msg string
	}{
		{"division by zero", "1/0", "division_by_zero", "division by zero"},
		{"division by an expression that is zero", "5 / (2 - 2)", "division_by_zero", "division by zero"},
		{"modulo by zero", "5%0", "division_by_zero", "modulo by zero"},
		{"zero to a negative power", "0^-1", "division_by_zero", ""},
		{"tower of powers", "10^10^10", "overflow", "too large"},
		{"huge exponent", "9^999999", "overflow", "too large"},
		{"product overflow", "1e300 * 1e300", "overflow", ""},
		{"exp overflow", "exp(1000)", "overflow", ""},
		{"literal too large", "1e999", "overflow", ""},
		{"sqrt of a negative", "sqrt(-1)", "domain_error", "sqrt"},
		{"ln of zero", "ln(0)", "domain_error", "ln"},
		{"log10 of a negative", "log10(-5)", "domain_error", ""},
		{"log2 of zero", "log2(0)", "domain_error", ""},
		{"asin out of range", "asin(2)", "domain_error", ""},
		{"acos out of range", "acos(-1.5)", "domain_error", ""},
		{"fractional power of a negative", "(-8)^(1/3)", "domain_error", ""},
		{"round digits not whole", "round(1, 0.5)", "domain_error", ""},
		{"1000 levels of parentheses", deep, "too_complex", ""},
		{"100 levels of parentheses", strings.Repeat("(", 100) + "1" + strings.Repeat(")", 100), "too_complex", "nested"},
		{"unary chain", strings.Repeat("-", 200) + "1", "too_complex", "nested"},
		{"power chain", strings.Repeat("2^", 100) + "1", "too_complex", "nested"},
		{"too long", strings.Repeat("1+", 500) + "1", "too_complex", "longer than 1000"},
		{"dangling operator", "2 +", "syntax_error", "ends"},
		{"unknown function", "foo(1)", "syntax_error", "unknown function"},
		{"unknown name", "x + 1", "syntax_error", "unknown name"},
		{"double dot", "1..2", "syntax_error", "malformed number"},
		{"two dots", "1.2.3", "syntax_error", "malformed number"},
		{"lone dot", ".", "syntax_error", ""},
		{"empty", "", "syntax_error", "empty"},
		{"blank", "   ", "syntax_error", "empty"},
		{"implicit multiplication", "2pi", "syntax_error", "*"},
		{"juxtaposed numbers", "2 3", "syntax_error", ""},
		{"unclosed parenthesis", "(1 + 2", "syntax_error", ")"},
		{"stray closing parenthesis", "1 + 2)", "syntax_error", ")"},
		{"empty parentheses", "()", "syntax_error", ""},
		{"function without parentheses", "sqrt 4", "syntax_error", "parentheses"},
		{"constant called", "pi(2)", "syntax_error", "unknown function"},
		{"too many arguments", "sqrt(1, 2)", "syntax_error", "takes 1"},
		{"no arguments", "max()", "syntax_error", "at least 1"},
		{"trailing comma", "min(1,)", "syntax_error", ""},
		{"comma at top level", "1, 2", "syntax_error", ""},
		{"assignment", "x = 2", "syntax_error", ""},
		{"code", "__import__('os')", "syntax_error", ""},
		{"double operator", "2 * / 3", "syntax_error", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := calc(tc.expr)
			te := mustToolErr(t, err, tc.code)
			if !strings.Contains(te.Message, tc.msg) {
				t.Errorf("message %q does not mention %q", te.Message, tc.msg)
			}
		})
	}
}

// TestCalculatorThroughRegistry checks the schema bound and that results are finite
// JSON numbers.
func TestCalculatorThroughRegistry(t *testing.T) {
	out, err := execArgs(t, Calculator(), `{"expression": "2^10 / 4"}`)
	if err != nil {
		t.Fatal(err)
	}
	if got := jsonOf(t, out); got["result"] != 256.0 || got["expression"] != "(2 ^ 10) / 4" {
		t.Fatalf("got %v", got)
	}
	_, err = execArgs(t, Calculator(), `{"expression": "`+strings.Repeat("1", 1001)+`"}`)
	mustToolErr(t, err, "invalid_arguments")
}
