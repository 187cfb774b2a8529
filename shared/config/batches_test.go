package config_test

import (
	"strings"
	"testing"

	"spass/shared/config"
)

// TestBatchSettings: defaults, the file, the environment over the file, and
// values that fail at start naming their key.
func TestBatchSettings(t *testing.T) {
	c, err := config.Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if b := c.Batches; c.Files.MaxBytes != 100<<20 || b.Concurrency != 4 || b.MaxLines != 50_000 || b.MaxRetries != 3 {
		t.Fatalf("defaults: files %+v batches %+v", c.Files, b)
	}
	yaml := "backends: [{name: a, kind: vllm, base_url: 'http://x'}]\nfiles: {max_bytes: 1024}\nbatches: {concurrency: 2, per_backend: {a: 6}, max_retries: 1}\n"
	c, err = config.Load(env(map[string]string{"SPASS_CONFIG": writeFile(t, yaml), "SPASS_BATCH_CONCURRENCY": "3"}))
	if err != nil {
		t.Fatal(err)
	}
	if b := c.Batches; c.Files.MaxBytes != 1024 || b.Concurrency != 3 || b.PerBackend["a"] != 6 || b.MaxRetries != 1 {
		t.Fatalf("files %+v batches %+v", c.Files, b)
	}
	for yaml, want := range map[string]string{
		"batches: {per_backend: {nope: 2}}\n": "batches.per_backend.nope",
		"batches: {concurrency: -1}\n":        "batches.concurrency",
		"batches: {max_retries: 99}\n":        "batches.max_retries",
		"files: {max_bytes: -5}\n":            "files.max_bytes",
	} {
		if _, err := config.Load(env(map[string]string{"SPASS_CONFIG": writeFile(t, yaml)})); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want it to name %s", yaml, err, want)
		}
	}
	if _, err := config.Load(env(map[string]string{"SPASS_BATCH_CONCURRENCY": "lots"})); err == nil || !strings.Contains(err.Error(), "SPASS_BATCH_CONCURRENCY") {
		t.Fatalf("bad SPASS_BATCH_CONCURRENCY: %v", err)
	}
}
