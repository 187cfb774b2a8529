package config

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
)

// The environment variables of the process log (they override gateway.yaml log:)
// and of the graceful shutdown (over server.shutdown_timeout).
const (
	LogFormatEnv       = "SPASS_LOG_FORMAT"
	LogLevelEnv        = "SPASS_LOG_LEVEL"
	ShutdownTimeoutEnv = "SPASS_SHUTDOWN_TIMEOUT"
)

// DefaultShutdownTimeout is server.shutdown_timeout's default: how long running
// requests and streams get to finish once the process is told to stop.
const DefaultShutdownTimeout = 30 * time.Second

// Logging configures the process log on stderr: one structured line per request
// and the server's own events. No line holds a token, a prompt or an answer, at
// any level.
type Logging struct {
	// Format is "text" (key=value, the default) or "json" (one object a line).
	Format string `yaml:"format"`
	// Level is debug, info (the default), warn or error; warn keeps only 5xx
	// request lines and problems.
	Level string `yaml:"level"`

	// key says where each value came from, for errors ("SPASS_LOG_FORMAT" or
	// "log.format").
	formatKey, levelKey string
}

// applyLogEnv layers SPASS_LOG_* and SPASS_SHUTDOWN_TIMEOUT over the file.
func applyLogEnv(c *Config, getenv func(string) string) error {
	c.Log.formatKey, c.Log.levelKey = "log.format", "log.level"
	if v := getenv(LogFormatEnv); v != "" {
		c.Log.Format, c.Log.formatKey = v, LogFormatEnv
	}
	if v := getenv(LogLevelEnv); v != "" {
		c.Log.Level, c.Log.levelKey = v, LogLevelEnv
	}
	if v := getenv(ShutdownTimeoutEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("%s: need a positive duration such as 30s, got %q", ShutdownTimeoutEnv, v)
		}
		c.Server.ShutdownTimeout.Duration = d
	}
	return nil
}

// validate checks the format and the level, naming the variable or key they came from.
func (l *Logging) validate() error {
	l.Format = strings.ToLower(strings.TrimSpace(l.Format))
	switch l.Format {
	case "":
		l.Format = "text"
	case "text", "json":
	default:
		return fmt.Errorf("%s: %q is not text or json", orKey(l.formatKey, "log.format"), l.Format)
	}
	if _, err := l.level(); err != nil {
		return fmt.Errorf("%s: %q is not debug, info, warn or error", orKey(l.levelKey, "log.level"), l.Level)
	}
	return nil
}

func orKey(key, def string) string {
	if key == "" {
		return def
	}
	return key
}

// level parses Level; empty is info.
func (l Logging) level() (slog.Level, error) {
	var lv slog.Level
	if strings.TrimSpace(l.Level) == "" {
		return slog.LevelInfo, nil
	}
	err := lv.UnmarshalText([]byte(strings.TrimSpace(l.Level)))
	return lv, err
}

// Logger returns the process logger writing to w (the binaries pass os.Stderr and
// make it slog's default, so every package's lines share the format).
func (l Logging) Logger(w io.Writer) *slog.Logger {
	lv, _ := l.level()
	opts := &slog.HandlerOptions{Level: lv}
	if l.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
