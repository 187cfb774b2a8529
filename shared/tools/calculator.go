package tools

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
)

const calculatorSchema = `{
  "type": "object",
  "additionalProperties": false,
  "required": ["expression"],
  "properties": {
    "expression": {
      "type": "string",
      "description": "Arithmetic expression, e.g. \"(3.5 + 2) * 4^2 / sqrt(2)\" or \"max(1, 2, 3) % 2\".",
      "minLength": 1,
      "maxLength": 1000
    }
  }
}`

// Calculator returns the calculator tool. Models are unreliable at arithmetic; this
// evaluates an expression exactly as written with a real parser (no eval, no
// interpreter) whose input size, nesting depth and results are bounded, so a hostile
// or runaway expression costs microseconds and ends in a tool error, never Inf or NaN.
func Calculator() Tool {
	return Tool{
		Name: "calculator",
		Description: "Evaluate an arithmetic expression exactly; use it instead of doing arithmetic in your head. " +
			"Operators: + - * / % (remainder, sign of the dividend) ^ (power, right-associative: 2^3^2 = 512; " +
			"unary minus binds looser than ^: -2^2 = -4, write (-2)^2 for 4), parentheses. " +
			"Functions: sqrt, abs, ln, log10, log2, exp, sin, cos, tan, asin, acos, atan (radians), floor, ceil, " +
			"round(x) or round(x, digits), min(...), max(...). Constants: pi, e. No variables, no implicit multiplication (write 2*pi). " +
			"Returns the result and the expression as it was parsed, fully parenthesised.",
		Parameters: json.RawMessage(calculatorSchema),
		Execute: func(_ context.Context, _ Call, raw json.RawMessage) (any, error) {
			var args struct {
				Expression string `json:"expression"`
			}
			if err := decodeArgs(raw, &args); err != nil {
				return nil, err
			}
			n, err := calcParse(args.Expression)
			if err != nil {
				return nil, err
			}
			v, err := n.eval()
			if err != nil {
				return nil, err
			}
			return map[string]any{"expression": n.String(), "result": round15(v)}, nil
		},
	}
}

// round15 drops binary noise past 15 significant digits (0.1+0.2 gives 0.3), which
// would otherwise leak into the model's answer; it also turns -0 into 0.
func round15(v float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 15, 64), 64)
	return r + 0
}

// eval computes the node. Every intermediate result must be finite, so overflow and
// domain errors are reported where they happen instead of surfacing as Inf or NaN.
func (n *calcNode) eval() (float64, error) {
	switch n.kind {
	case 'n':
		return n.val, nil
	case 'c':
		if n.name == "pi" {
			return math.Pi, nil
		}
		return math.E, nil
	}
	args := make([]float64, len(n.args))
	for i, a := range n.args {
		v, err := a.eval()
		if err != nil {
			return 0, err
		}
		args[i] = v
	}
	var v float64
	var err error
	switch n.kind {
	case 'u':
		v = -args[0]
	case 'b':
		v, err = calcBinary(n.op, args[0], args[1])
	default:
		v, err = calcCall(n.name, args)
	}
	if err != nil {
		return 0, err
	}
	if math.IsNaN(v) {
		return 0, Errorf("domain_error", "%s is undefined", n)
	}
	if math.IsInf(v, 0) {
		return 0, Errorf("overflow", "%s is too large to represent (beyond ±1.8e308)", n)
	}
	return v, nil
}

func calcBinary(op byte, a, b float64) (float64, error) {
	switch op {
	case '+':
		return a + b, nil
	case '-':
		return a - b, nil
	case '*':
		return a * b, nil
	case '/':
		if b == 0 {
			return 0, Errorf("division_by_zero", "division by zero")
		}
		return a / b, nil
	case '%':
		if b == 0 {
			return 0, Errorf("division_by_zero", "modulo by zero")
		}
		return math.Mod(a, b), nil
	}
	// ^
	if a == 0 && b < 0 {
		return 0, Errorf("division_by_zero", "division by zero: 0 raised to a negative power")
	}
	if a < 0 && b != math.Trunc(b) {
		return 0, Errorf("domain_error", "a negative number raised to a fractional power is not a real number")
	}
	return math.Pow(a, b), nil
}

func calcCall(name string, a []float64) (float64, error) {
	x := a[0]
	domain := func(cond bool, what string) error {
		if cond {
			return nil
		}
		return Errorf("domain_error", "%s(%s) is undefined: %s", name, strconv.FormatFloat(x, 'g', -1, 64), what)
	}
	switch name {
	case "sqrt":
		return math.Sqrt(x), domain(x >= 0, "the argument must not be negative")
	case "ln":
		return math.Log(x), domain(x > 0, "the argument must be positive")
	case "log10":
		return math.Log10(x), domain(x > 0, "the argument must be positive")
	case "log2":
		return math.Log2(x), domain(x > 0, "the argument must be positive")
	case "asin":
		return math.Asin(x), domain(x >= -1 && x <= 1, "the argument must be in [-1, 1]")
	case "acos":
		return math.Acos(x), domain(x >= -1 && x <= 1, "the argument must be in [-1, 1]")
	case "abs":
		return math.Abs(x), nil
	case "exp":
		return math.Exp(x), nil
	case "sin":
		return math.Sin(x), nil
	case "cos":
		return math.Cos(x), nil
	case "tan":
		return math.Tan(x), nil
	case "atan":
		return math.Atan(x), nil
	case "floor":
		return math.Floor(x), nil
	case "ceil":
		return math.Ceil(x), nil
	case "round":
		return roundTo(a)
	case "min", "max":
		v := x
		for _, y := range a[1:] {
			if name == "min" {
				v = math.Min(v, y)
			} else {
				v = math.Max(v, y)
			}
		}
		return v, nil
	}
	return 0, Errorf("syntax_error", "unknown function %q", name) // unreachable: the parser checks names
}

// roundTo rounds half away from zero, optionally to a number of decimal digits.
func roundTo(a []float64) (float64, error) {
	if len(a) == 1 {
		return math.Round(a[0]), nil
	}
	d := a[1]
	if d != math.Trunc(d) || d < -15 || d > 15 {
		return 0, Errorf("domain_error", "round's digits must be a whole number from -15 to 15")
	}
	p := math.Pow10(int(d))
	if s := a[0] * p; !math.IsInf(s, 0) {
		return math.Round(s) / p, nil
	}
	return a[0], nil // already more precise than a float64 holds at that scale
}
