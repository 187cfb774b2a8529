package tools

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func convert(value float64, from, to string) (map[string]any, error) {
	args, _ := json.Marshal(map[string]any{"value": value, "from": from, "to": to})
	out, err := UnitConvert().Execute(context.Background(), testPrincipal, args)
	if err != nil {
		return nil, err
	}
	return out.(map[string]any), nil
}

func TestUnitConvert(t *testing.T) {
	tests := []struct {
		v        float64
		from, to string
		want     float64
	}{
		{1, "km", "m", 1000},
		{1, "mi", "km", 1.609344},
		{12, "in", "ft", 1},
		{1, "nautical mile", "m", 1852},
		{1, "lb", "kg", 0.45359237},
		{16, "oz", "lb", 1},
		{1, "gal", "L", 3.785411784},
		{1, "imp gal", "L", 4.54609},
		{1, "cup", "fl oz", 8},
		{3, "tsp", "tbsp", 1},
		{100, "degC", "degF", 212},
		{-40, "C", "F", -40},
		{32, "°F", "celsius", 0},
		{0, "K", "degC", -273.15},
		{491.67, "degR", "degF", 32},
		{90, "min", "h", 1.5},
		{1, "yr", "d", 365.2425},
		{1, "wk", "s", 604800},
		{100, "km/h", "m/s", 27.7777777778},
		{1, "kn", "km/h", 1.852},
		{60, "mph", "km/h", 96.56064},
		{1, "ha", "m2", 10000},
		{1, "acre", "ft2", 43560},
		{1, "KiB", "B", 1024},
		{1, "kB", "B", 1000},
		{1, "KB", "B", 1000},
		{1, "MB", "Mb", 8},
		{100, "Mbit", "MB", 12.5},
		{1, "GiB", "MiB", 1024},
		{8, "bit", "byte", 1},
		{1, "atm", "Pa", 101325},
		{1, "bar", "kPa", 100},
		{1, "psi", "kPa", 6.89475729317},
		{760, "torr", "atm", 1},
		{1, "mmHg", "Pa", 133.322387415},
		{1, "kWh", "MJ", 3.6},
		{1, "kcal", "kJ", 4.184},
		{1, "KILOMETERS", "Meters", 1000}, // case-insensitive where unambiguous
	}
	for _, tc := range tests {
		t.Run(tc.from+"->"+tc.to, func(t *testing.T) {
			got, err := convert(tc.v, tc.from, tc.to)
			if err != nil {
				t.Fatal(err)
			}
			if r := got["result"].(float64); math.Abs(r-tc.want) > 1e-9*math.Max(1, math.Abs(tc.want)) {
				t.Errorf("%v %s = %v %s, want %v", tc.v, tc.from, r, tc.to, tc.want)
			}
		})
	}
}

func TestUnitConvertRefuses(t *testing.T) {
	tests := []struct {
		name        string
		v           float64
		from, to    string
		code        string
		msgContains []string
	}{
		{"unknown from lists the other unit's dimension", 1, "furlong", "m", "unknown_unit", []string{"furlong", "length units", "km", "mi"}},
		{"unknown to", 1, "kg", "smoot", "unknown_unit", []string{"smoot", "mass units", "lb"}},
		{"both unknown lists dimensions", 1, "foo", "qux", "unknown_unit", []string{"length", "temperature", "data"}},
		{"ambiguous case is not guessed", 1, "mb", "B", "unknown_unit", []string{"Mbit", "MB"}},
		{"cross dimension", 1, "kg", "m", "incompatible_units", []string{"mass", "length", "lb"}},
		{"temperature to length", 20, "degC", "ft", "incompatible_units", []string{"temperature"}},
		{"below absolute zero", -300, "degC", "K", "invalid_value", []string{"absolute zero"}},
		{"below absolute zero in kelvin", -1, "K", "degF", "invalid_value", nil},
		{"overflow", 1e308, "ly", "nm", "overflow", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := convert(tc.v, tc.from, tc.to)
			te := mustToolErr(t, err, tc.code)
			for _, s := range tc.msgContains {
				if !strings.Contains(te.Message, s) {
					t.Errorf("message %q does not mention %q", te.Message, s)
				}
			}
		})
	}
}

func TestUnitConvertSchema(t *testing.T) {
	out, err := execArgs(t, UnitConvert(), `{"value": 5, "from": "km", "to": "mi"}`)
	if err != nil {
		t.Fatal(err)
	}
	if got := jsonOf(t, out); got["text"] != "5 km = 3.10685596119 mi" || got["dimension"] != "length" {
		t.Fatalf("got %v", got)
	}
	_, err = execArgs(t, UnitConvert(), `{"value": 5, "from": "km", "to": "mi", "precision": 2}`)
	mustToolErr(t, err, "invalid_arguments")
}
