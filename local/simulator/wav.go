package simulator

import (
	"encoding/binary"
	"errors"
	"math"
)

// WAV writes mono samples as a 16-bit PCM WAV file at rate.
func WAV(samples []float64, rate int) []byte {
	data := PCM16(samples)
	out := make([]byte, 44, 44+len(data))
	copy(out, wavHeader(len(data), rate))
	return append(out, data...)
}

// PCM16 is samples as little-endian 16-bit PCM.
func PCM16(samples []float64) []byte {
	out := make([]byte, 2*len(samples))
	for i, v := range samples {
		v = math.Max(-1, math.Min(1, v))
		binary.LittleEndian.PutUint16(out[2*i:], uint16(int16(math.Round(v*32767))))
	}
	return out
}

// wavHeader is the 44-byte header of a mono 16-bit PCM file with dataLen bytes.
func wavHeader(dataLen, rate int) []byte {
	h := make([]byte, 44)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+dataLen))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1) // PCM
	binary.LittleEndian.PutUint16(h[22:], 1) // mono
	binary.LittleEndian.PutUint32(h[24:], uint32(rate))
	binary.LittleEndian.PutUint32(h[28:], uint32(rate*2))
	binary.LittleEndian.PutUint16(h[32:], 2)
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(dataLen))
	return h
}

var errNotWAV = errors.New("not a PCM WAV file")

// ReadWAV decodes a PCM (8, 16, 24, 32-bit integer) or 32-bit float WAV file
// into the samples of its first channel and its rate. A data chunk whose size
// field is wrong (a recorder that never went back to fix it) runs to the end.
func ReadWAV(b []byte) ([]float64, int, error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, errNotWAV
	}
	var format, channels, bits int
	var rate int
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:]))
		body := b[p+8:]
		switch id {
		case "fmt ":
			if size < 16 || len(body) < 16 {
				return nil, 0, errNotWAV
			}
			format = int(binary.LittleEndian.Uint16(body[0:]))
			channels = int(binary.LittleEndian.Uint16(body[2:]))
			rate = int(binary.LittleEndian.Uint32(body[4:]))
			bits = int(binary.LittleEndian.Uint16(body[14:]))
			if format == 0xFFFE && size >= 26 { // WAVE_FORMAT_EXTENSIBLE: the sub-format's first two bytes
				format = int(binary.LittleEndian.Uint16(body[24:]))
			}
		case "data":
			if rate <= 0 || channels <= 0 || bits%8 != 0 || bits == 0 {
				return nil, 0, errNotWAV
			}
			if size > len(body) || size == 0 {
				size = len(body)
			}
			return samplesOf(body[:size], format, channels, bits/8), rate, nil
		}
		p += 8 + size + size%2
	}
	return nil, 0, errNotWAV
}

func samplesOf(data []byte, format, channels, width int) []float64 {
	frame := channels * width
	out := make([]float64, 0, len(data)/frame)
	for p := 0; p+frame <= len(data); p += frame {
		s := data[p : p+width]
		var v float64
		switch {
		case format == 3 && width == 4:
			v = float64(math.Float32frombits(binary.LittleEndian.Uint32(s)))
		case width == 1:
			v = (float64(s[0]) - 128) / 128
		case width == 2:
			v = float64(int16(binary.LittleEndian.Uint16(s))) / 32768
		case width == 3:
			v = float64(int32(uint32(s[0])<<8|uint32(s[1])<<16|uint32(s[2])<<24)>>8) / 8388608
		case width == 4:
			v = float64(int32(binary.LittleEndian.Uint32(s))) / 2147483648
		}
		out = append(out, v)
	}
	return out
}
