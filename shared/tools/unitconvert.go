package tools

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
)

const unitConvertSchema = `{
  "type": "object",
  "additionalProperties": false,
  "required": ["value", "from", "to"],
  "properties": {
    "value": {"type": "number", "description": "The quantity to convert."},
    "from": {"type": "string", "minLength": 1, "maxLength": 32, "description": "Unit of value, e.g. km, lb, degF, kWh, MiB."},
    "to": {"type": "string", "minLength": 1, "maxLength": 32, "description": "Unit to convert into; must measure the same dimension."}
  }
}`

// unit is a unit as an affine map onto its dimension's base unit:
// base = value*factor + offset. Only temperatures have an offset.
type unit struct {
	dim    string
	symbol string // canonical spelling, listed in errors
	factor float64
	offset float64
}

// unitTable indexes units by every accepted spelling. Symbols are case-sensitive
// where case carries meaning (Mb megabit vs MB megabyte, mm vs Mm); a spelling that
// matches no symbol exactly is looked up case-insensitively when that is unambiguous.
type unitTable struct {
	exact map[string]unit
	fold  map[string][]unit
	dims  []string
}

// unitDefs lists each dimension's units: symbol, factor to the base unit, aliases.
// The first unit of each dimension is its base.
func unitDefs() map[string][]struct {
	symbol  string
	factor  float64
	aliases []string
} {
	type u = struct {
		symbol  string
		factor  float64
		aliases []string
	}
	const inch, lb, usGal, day = 0.0254, 0.45359237, 3.785411784e-3, 86400.0
	return map[string][]u{
		"length": {
			{"m", 1, []string{"meter", "meters", "metre", "metres"}},
			{"km", 1e3, []string{"kilometer", "kilometers", "kilometre", "kilometres"}},
			{"cm", 1e-2, []string{"centimeter", "centimeters", "centimetre", "centimetres"}},
			{"mm", 1e-3, []string{"millimeter", "millimeters", "millimetre", "millimetres"}},
			{"um", 1e-6, []string{"µm", "micrometer", "micrometers", "micron", "microns"}},
			{"nm", 1e-9, []string{"nanometer", "nanometers", "nanometre", "nanometres"}},
			{"in", inch, []string{"inch", "inches", "\""}},
			{"ft", 12 * inch, []string{"foot", "feet", "'"}},
			{"yd", 36 * inch, []string{"yard", "yards"}},
			{"mi", 63360 * inch, []string{"mile", "miles"}},
			{"nmi", 1852, []string{"nautical mile", "nautical miles"}},
			{"au", 149597870700, []string{"astronomical unit", "astronomical units"}},
			{"ly", 9460730472580800, []string{"light year", "light years", "light-year", "light-years"}},
		},
		"mass": {
			{"kg", 1, []string{"kilogram", "kilograms", "kilo", "kilos"}},
			{"g", 1e-3, []string{"gram", "grams"}},
			{"mg", 1e-6, []string{"milligram", "milligrams"}},
			{"ug", 1e-9, []string{"µg", "microgram", "micrograms"}},
			{"t", 1e3, []string{"tonne", "tonnes", "metric ton", "metric tons"}},
			{"lb", lb, []string{"lbs", "pound", "pounds"}},
			{"oz", lb / 16, []string{"ounce", "ounces"}},
			{"st", 14 * lb, []string{"stone", "stones"}},
			{"short ton", 2000 * lb, []string{"us ton", "us tons", "short tons"}},
			{"long ton", 2240 * lb, []string{"imperial ton", "imperial tons", "long tons"}},
		},
		"volume": {
			{"m3", 1, []string{"m³", "cubic meter", "cubic meters", "cubic metre", "cubic metres"}},
			{"L", 1e-3, []string{"l", "liter", "liters", "litre", "litres"}},
			{"dL", 1e-4, []string{"dl", "deciliter", "deciliters", "decilitre", "decilitres"}},
			{"cL", 1e-5, []string{"cl", "centiliter", "centiliters", "centilitre", "centilitres"}},
			{"mL", 1e-6, []string{"ml", "milliliter", "milliliters", "millilitre", "millilitres", "cm3", "cm³", "cc"}},
			{"gal", usGal, []string{"gallon", "gallons", "us gal", "us gallon", "us gallons"}},
			{"qt", usGal / 4, []string{"quart", "quarts"}},
			{"pt", usGal / 8, []string{"pint", "pints"}},
			{"cup", usGal / 16, []string{"cups"}},
			{"fl oz", usGal / 128, []string{"floz", "fluid ounce", "fluid ounces"}},
			{"tbsp", usGal / 256, []string{"tablespoon", "tablespoons"}},
			{"tsp", usGal / 768, []string{"teaspoon", "teaspoons"}},
			{"imp gal", 4.54609e-3, []string{"imperial gallon", "imperial gallons", "uk gallon", "uk gallons"}},
			{"imp pt", 4.54609e-3 / 8, []string{"imperial pint", "imperial pints", "uk pint", "uk pints"}},
			{"ft3", math.Pow(12*inch, 3), []string{"ft³", "cubic foot", "cubic feet"}},
			{"in3", math.Pow(inch, 3), []string{"in³", "cubic inch", "cubic inches"}},
		},
		"time": {
			{"s", 1, []string{"sec", "secs", "second", "seconds"}},
			{"ms", 1e-3, []string{"millisecond", "milliseconds"}},
			{"us", 1e-6, []string{"µs", "microsecond", "microseconds"}},
			{"ns", 1e-9, []string{"nanosecond", "nanoseconds"}},
			{"min", 60, []string{"mins", "minute", "minutes"}},
			{"h", 3600, []string{"hr", "hrs", "hour", "hours"}},
			{"d", day, []string{"day", "days"}},
			{"wk", 7 * day, []string{"week", "weeks"}},
			{"month", 365.2425 * day / 12, []string{"months", "mo"}},
			{"yr", 365.2425 * day, []string{"y", "year", "years"}},
		},
		"speed": {
			{"m/s", 1, []string{"mps", "meters per second", "metres per second"}},
			{"km/h", 1 / 3.6, []string{"kph", "kmh", "kilometers per hour", "kilometres per hour"}},
			{"mph", 1609.344 / 3600, []string{"mi/h", "miles per hour"}},
			{"kn", 1852.0 / 3600, []string{"kt", "knot", "knots"}},
			{"ft/s", 12 * inch, []string{"fps", "feet per second"}},
		},
		"area": {
			{"m2", 1, []string{"m²", "square meter", "square meters", "square metre", "square metres"}},
			{"km2", 1e6, []string{"km²", "square kilometer", "square kilometers", "square kilometre", "square kilometres"}},
			{"cm2", 1e-4, []string{"cm²", "square centimeter", "square centimeters"}},
			{"mm2", 1e-6, []string{"mm²", "square millimeter", "square millimeters"}},
			{"ha", 1e4, []string{"hectare", "hectares"}},
			{"acre", 4046.8564224, []string{"acres", "ac"}},
			{"ft2", 144 * inch * inch, []string{"ft²", "sq ft", "square foot", "square feet"}},
			{"in2", inch * inch, []string{"in²", "sq in", "square inch", "square inches"}},
			{"yd2", 1296 * inch * inch, []string{"yd²", "sq yd", "square yard", "square yards"}},
			{"mi2", 1609.344 * 1609.344, []string{"mi²", "sq mi", "square mile", "square miles"}},
		},
		"data": {
			{"bit", 1, []string{"bits", "b"}},
			{"B", 8, []string{"byte", "bytes"}},
			{"kbit", 1e3, []string{"kb", "kilobit", "kilobits"}},
			{"Mbit", 1e6, []string{"Mb", "megabit", "megabits"}},
			{"Gbit", 1e9, []string{"Gb", "gigabit", "gigabits"}},
			{"Tbit", 1e12, []string{"Tb", "terabit", "terabits"}},
			{"kB", 8e3, []string{"KB", "kilobyte", "kilobytes"}},
			{"MB", 8e6, []string{"megabyte", "megabytes"}},
			{"GB", 8e9, []string{"gigabyte", "gigabytes"}},
			{"TB", 8e12, []string{"terabyte", "terabytes"}},
			{"PB", 8e15, []string{"petabyte", "petabytes"}},
			{"KiB", 8 << 10, []string{"kibibyte", "kibibytes"}},
			{"MiB", 8 << 20, []string{"mebibyte", "mebibytes"}},
			{"GiB", 8 << 30, []string{"gibibyte", "gibibytes"}},
			{"TiB", 8 << 40, []string{"tebibyte", "tebibytes"}},
			{"PiB", 8 << 50, []string{"pebibyte", "pebibytes"}},
		},
		"pressure": {
			{"Pa", 1, []string{"pascal", "pascals"}},
			{"hPa", 100, []string{"hectopascal", "hectopascals"}},
			{"kPa", 1e3, []string{"kilopascal", "kilopascals"}},
			{"MPa", 1e6, []string{"megapascal", "megapascals"}},
			{"bar", 1e5, []string{"bars"}},
			{"mbar", 100, []string{"millibar", "millibars"}},
			{"atm", 101325, []string{"atmosphere", "atmospheres"}},
			{"psi", lb * 9.80665 / (inch * inch), []string{"lbf/in2", "pounds per square inch"}},
			{"mmHg", 133.322387415, []string{"millimeters of mercury"}},
			{"torr", 101325.0 / 760, []string{"Torr"}},
			{"inHg", 3386.389, []string{"inches of mercury"}},
		},
		"energy": {
			{"J", 1, []string{"joule", "joules"}},
			{"kJ", 1e3, []string{"kilojoule", "kilojoules"}},
			{"MJ", 1e6, []string{"megajoule", "megajoules"}},
			{"cal", 4.184, []string{"calorie", "calories"}},
			{"kcal", 4184, []string{"Cal", "kilocalorie", "kilocalories"}},
			{"Wh", 3600, []string{"watt hour", "watt hours", "watt-hour", "watt-hours"}},
			{"kWh", 3.6e6, []string{"kilowatt hour", "kilowatt hours", "kilowatt-hour", "kilowatt-hours"}},
			{"MWh", 3.6e9, []string{"megawatt hour", "megawatt hours"}},
			{"eV", 1.602176634e-19, []string{"electronvolt", "electronvolts"}},
			{"BTU", 1055.05585262, []string{"btu", "british thermal unit", "british thermal units"}},
		},
	}
}

// newUnitTable builds the lookup once per tool; the tool's closure only reads it.
func newUnitTable() *unitTable {
	t := &unitTable{exact: map[string]unit{}, fold: map[string][]unit{}}
	add := func(u unit, aliases ...string) {
		for _, n := range append([]string{u.symbol}, aliases...) {
			t.exact[n] = u
			k := strings.ToLower(n)
			if !slices.Contains(t.fold[k], u) {
				t.fold[k] = append(t.fold[k], u)
			}
		}
	}
	for dim, us := range unitDefs() {
		t.dims = append(t.dims, dim)
		for _, d := range us {
			add(unit{dim: dim, symbol: d.symbol, factor: d.factor}, d.aliases...)
		}
	}
	// Temperatures are affine; the base is the kelvin.
	t.dims = append(t.dims, "temperature")
	add(unit{dim: "temperature", symbol: "K", factor: 1}, "kelvin", "kelvins")
	add(unit{dim: "temperature", symbol: "degC", factor: 1, offset: 273.15}, "C", "°C", "celsius", "centigrade")
	add(unit{dim: "temperature", symbol: "degF", factor: 5.0 / 9, offset: 459.67 * 5 / 9}, "F", "°F", "fahrenheit")
	add(unit{dim: "temperature", symbol: "degR", factor: 5.0 / 9}, "R", "°R", "rankine")
	slices.Sort(t.dims)
	return t
}

func (t *unitTable) lookup(name string) (unit, bool) {
	name = strings.TrimSpace(name)
	if u, ok := t.exact[name]; ok {
		return u, true
	}
	if us := t.fold[strings.ToLower(name)]; len(us) == 1 {
		return us[0], true
	}
	return unit{}, false
}

// symbols lists a dimension's canonical symbols, for error messages.
func (t *unitTable) symbols(dim string) string {
	var out []string
	for _, u := range t.exact {
		if u.dim == dim && !slices.Contains(out, u.symbol) {
			out = append(out, u.symbol)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// UnitConvert returns the unit_convert tool. Conversion factors are where models
// hallucinate most (US vs imperial gallons, kB vs KiB, °F offsets); this tool uses
// exact definitions and refuses conversions across dimensions.
func UnitConvert() Tool {
	t := newUnitTable()
	return Tool{
		Name: "unit_convert",
		Description: "Convert a value between units of the same dimension, with exact factors. Dimensions: " +
			strings.Join(t.dims, ", ") + ". Examples: km, mi, ft, in, nmi; kg, g, lb, oz, t; L, mL, gal (US), imp gal, fl oz, cup; " +
			"degC, degF, K; s, min, h, d, wk, month and yr (Gregorian averages); m/s, km/h, mph, kn; m2, ha, acre, ft2; " +
			"bit, B, kB (1000 B), KiB (1024 B), MB, MiB, Mbit; Pa, kPa, bar, atm, psi, mmHg; J, kJ, cal, kcal, Wh, kWh, eV, BTU. " +
			"Symbols are case-sensitive where case matters (Mb is megabit, MB megabyte). An unknown unit's error lists the valid ones.",
		Parameters: json.RawMessage(unitConvertSchema),
		Execute: func(_ context.Context, _ Call, raw json.RawMessage) (any, error) {
			var args struct {
				Value float64 `json:"value"`
				From  string  `json:"from"`
				To    string  `json:"to"`
			}
			if err := decodeArgs(raw, &args); err != nil {
				return nil, err
			}
			return t.convert(args.Value, args.From, args.To)
		},
	}
}

func (t *unitTable) convert(v float64, fromName, toName string) (any, error) {
	from, okF := t.lookup(fromName)
	to, okT := t.lookup(toName)
	switch {
	case !okF && !okT:
		return nil, Errorf("unknown_unit", "unknown units %q and %q; dimensions: %s", fromName, toName, strings.Join(t.dims, ", "))
	case !okF:
		return nil, Errorf("unknown_unit", "unknown unit %q; %s units: %s", fromName, to.dim, t.symbols(to.dim))
	case !okT:
		return nil, Errorf("unknown_unit", "unknown unit %q; %s units: %s", toName, from.dim, t.symbols(from.dim))
	case from.dim != to.dim:
		return nil, Errorf("incompatible_units", "cannot convert %s (%s) to %s (%s); %s units: %s",
			from.symbol, from.dim, to.symbol, to.dim, from.dim, t.symbols(from.dim))
	}
	base := v*from.factor + from.offset
	if from.dim == "temperature" && base < 0 {
		return nil, Errorf("invalid_value", "%s %s is below absolute zero", strconv.FormatFloat(v, 'g', -1, 64), from.symbol)
	}
	r := (base - to.offset) / to.factor
	if math.IsInf(r, 0) || math.IsNaN(r) {
		return nil, Errorf("overflow", "the result is too large to represent")
	}
	r = round12(r)
	return map[string]any{
		"value": v, "from": from.symbol, "to": to.symbol, "dimension": from.dim, "result": r,
		"text": strconv.FormatFloat(v, 'g', -1, 64) + " " + from.symbol + " = " + strconv.FormatFloat(r, 'g', -1, 64) + " " + to.symbol,
	}, nil
}

// round12 keeps 12 significant digits: the factors are exact to about that, and it
// hides binary noise such as 212.00000000000003 °F.
func round12(v float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 12, 64), 64)
	return r + 0
}
