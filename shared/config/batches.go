package config

import (
	"fmt"
	"strconv"
)

// Files bounds /v1/files.
type Files struct {
	// MaxBytes bounds one uploaded file, whatever its purpose (default 100 MiB).
	MaxBytes int64 `yaml:"max_bytes"`
}

// Batches tunes /v1/batches.
type Batches struct {
	// Concurrency bounds the batch lines one process (a workers binary, or a
	// gateway running jobs in-process) sends to one backend at once, so batches
	// leave the backend's remaining capacity to interactive requests (default 4;
	// SPASS_BATCH_CONCURRENCY).
	Concurrency int `yaml:"concurrency"`
	// PerBackend overrides Concurrency for the named backends.
	PerBackend map[string]int `yaml:"per_backend"`
	// MaxLines bounds the requests of one input file (default 50000).
	MaxLines int `yaml:"max_lines"`
	// MaxRetries is how often a line that failed on the backend (5xx, 429,
	// timeout) is retried before its error lands in the error file (default 3).
	MaxRetries int `yaml:"max_retries"`
}

// applyBatchEnv reads SPASS_BATCH_CONCURRENCY over gateway.yaml.
func (c *Config) applyBatchEnv(getenv func(string) string) error {
	if v := getenv("SPASS_BATCH_CONCURRENCY"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("SPASS_BATCH_CONCURRENCY: want a positive integer, got %q", v)
		}
		c.Batches.Concurrency = n
	}
	return nil
}

func (c *Config) applyBatchDefaults() {
	if c.Files.MaxBytes == 0 {
		c.Files.MaxBytes = 100 << 20
	}
	b := &c.Batches
	if b.Concurrency == 0 {
		b.Concurrency = 4
	}
	if b.MaxLines == 0 {
		b.MaxLines = 50_000
	}
	if b.MaxRetries == 0 {
		b.MaxRetries = 3
	}
}

func (c *Config) validateBatches() error {
	b := c.Batches
	switch {
	case c.Files.MaxBytes < 1:
		return fmt.Errorf("files.max_bytes: must be positive")
	case b.Concurrency < 1:
		return fmt.Errorf("batches.concurrency: must be positive")
	case b.MaxLines < 1:
		return fmt.Errorf("batches.max_lines: must be positive")
	case b.MaxRetries < 0 || b.MaxRetries > 25:
		return fmt.Errorf("batches.max_retries: must be 0-25")
	}
	for name, n := range b.PerBackend {
		if n < 1 {
			return fmt.Errorf("batches.per_backend.%s: must be positive", name)
		}
		found := false
		for _, be := range c.Backends {
			found = found || be.Name == name
		}
		if !found {
			return fmt.Errorf("batches.per_backend.%s: no such backend", name)
		}
	}
	return nil
}
