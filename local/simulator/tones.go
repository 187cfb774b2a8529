package simulator

import (
	"math"
	"strings"
)

// The simulator's speech is a tone code, so that what it says survives a
// microphone: each character is a 100 ms sine tone of its own frequency followed
// by 60 ms of silence, and a marker tone opens every utterance. Transcription
// decodes the tones back (Goertzel filters over 20 ms frames), so a WAV made by
// POST /v1/audio/speech, or recorded from a speaker playing one, transcribes to
// the text it was made from. The code survives resampling and looping (a
// browser's fake microphone plays a file over and over): the transcript is the
// text between two markers, or, with one marker, the text after it followed by
// the text before it.
const (
	toneAlphabet   = " abcdefghijklmnopqrstuvwxyz0123456789"
	toneBase       = 500.0
	toneStep       = 100.0
	toneOn         = 0.100 // seconds
	toneOff        = 0.060
	toneAmplitude  = 0.4
	toneFrame      = 0.020
	silenceRMS     = 0.02
	minToneFrames  = 2
	markerFreqSlot = len(toneAlphabet) // the marker's slot, above every character
)

// toneFreq is the frequency of slot i: characters 0..len-1, the marker last.
func toneFreq(i int) float64 { return toneBase + toneStep*float64(i) }

// SpeakableText is text as the tone code can say it: lower case, characters
// outside the alphabet as spaces, runs of spaces as one, trimmed.
func SpeakableText(text string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		if !strings.ContainsRune(toneAlphabet, r) {
			r = ' '
		}
		b.WriteRune(r)
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// Synthesize returns text as mono samples in [-1, 1] at rate: the marker, then
// each character of SpeakableText(text).
func Synthesize(text string, rate int) []float64 {
	slots := []int{markerFreqSlot}
	for _, r := range SpeakableText(text) {
		slots = append(slots, strings.IndexRune(toneAlphabet, r))
	}
	on, off := int(toneOn*float64(rate)), int(toneOff*float64(rate))
	out := make([]float64, 0, len(slots)*(on+off))
	ramp := rate / 200 // 5 ms fades, so tones do not click
	for _, s := range slots {
		f := toneFreq(s)
		for i := range on {
			a := toneAmplitude
			if i < ramp {
				a *= float64(i) / float64(ramp)
			} else if on-i < ramp {
				a *= float64(on-i) / float64(ramp)
			}
			out = append(out, a*math.Sin(2*math.Pi*f*float64(i)/float64(rate)))
		}
		out = append(out, make([]float64, off)...)
	}
	return out
}

// heardSymbol is one tone the decoder heard and when.
type heardSymbol struct {
	slot       int
	start, end float64 // seconds
}

// Decode hears the tone code in samples at rate and returns the text and the
// time span of each character (for segments and subtitles). Audio without the
// code decodes to "".
func Decode(samples []float64, rate int) (string, []heardSymbol) {
	syms := hear(samples, rate)
	var marks []int
	for i, s := range syms {
		if s.slot == markerFreqSlot {
			marks = append(marks, i)
		}
	}
	var use []heardSymbol
	switch {
	case len(marks) >= 2:
		// The first utterance with both ends heard; an empty one (two markers in a
		// row) is skipped.
		for k := 0; k+1 < len(marks) && len(use) == 0; k++ {
			use = syms[marks[k]+1 : marks[k+1]]
		}
	case len(marks) == 1:
		use = append(append([]heardSymbol{}, syms[marks[0]+1:]...), syms[:marks[0]]...)
	default:
		use = syms
	}
	var b strings.Builder
	for _, s := range use {
		b.WriteByte(toneAlphabet[s.slot])
	}
	return strings.TrimSpace(b.String()), use
}

// hear labels 20 ms frames with the strongest slot (or silence) and turns runs of
// at least minToneFrames into symbols.
func hear(samples []float64, rate int) []heardSymbol {
	n := int(toneFrame * float64(rate))
	if n < 16 {
		return nil
	}
	window := make([]float64, n)
	for i := range window {
		window[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n-1))
	}
	coef := make([]float64, markerFreqSlot+1)
	for i := range coef {
		coef[i] = 2 * math.Cos(2*math.Pi*toneFreq(i)/float64(rate))
	}
	var out []heardSymbol
	run, runLen, runStart := -1, 0, 0
	lastEnd := 0 // the frame where the last symbol ended
	flush := func(end int) {
		if run < 0 || runLen < minToneFrames {
			return
		}
		// The same tone again after fewer frames than a tone needs is one tone split
		// by a stray frame (a dropout, a click); the silence between two characters
		// (toneOff, 3 frames) leaves at least 2.
		if k := len(out) - 1; k >= 0 && out[k].slot == run && runStart-lastEnd < minToneFrames {
			out[k].end, lastEnd = float64(end*n)/float64(rate), end
			return
		}
		out = append(out, heardSymbol{slot: run, start: float64(runStart*n) / float64(rate), end: float64(end*n) / float64(rate)})
		lastEnd = end
	}
	frames := len(samples) / n
	for f := range frames {
		x := samples[f*n : (f+1)*n]
		label := frameLabel(x, window, coef)
		if label != run {
			flush(f)
			run, runLen, runStart = label, 0, f
		}
		runLen++
	}
	flush(frames)
	return out
}

// frameLabel is the slot whose tone carries most of the frame's energy, or -1 for
// silence and noise.
func frameLabel(x, window, coef []float64) int {
	var energy float64
	for _, v := range x {
		energy += v * v
	}
	if math.Sqrt(energy/float64(len(x))) < silenceRMS {
		return -1
	}
	best, bestP, second := -1, 0.0, 0.0
	for k, c := range coef {
		var s1, s2 float64
		for i, v := range x {
			s := v*window[i] + c*s1 - s2
			s2, s1 = s1, s
		}
		p := s1*s1 + s2*s2 - c*s1*s2
		if p > bestP {
			second, bestP, best = bestP, p, k
		} else if p > second {
			second = p
		}
	}
	if bestP < 4*second {
		return -1 // no clear tone
	}
	return best
}
