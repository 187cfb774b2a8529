package lambda_test

import (
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"spass/local/gatewaytest"
	"spass/local/lambda"
)

// al2023Glibc is the glibc of Lambda's provided.al2023 runtime: a bootstrap linked
// against anything newer fails to start there ("GLIBC_2.xx not found").
const al2023Glibc = 34

// TestBootstrapsFitLambda checks that the bootstraps, for this machine's
// architecture and cross-compiled with cgo for the other one, are Linux executables
// of the right machine that ask no more of glibc than provided.al2023 has.
func TestBootstrapsFitLambda(t *testing.T) {
	check := func(t *testing.T, bins map[string]string, machine elf.Machine) {
		for id, path := range bins {
			f, err := elf.Open(path)
			if err != nil {
				t.Fatalf("%s: %v", id, err)
			}
			defer f.Close()
			if f.Machine != machine || f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
				t.Errorf("%s: %v %v, want an executable for %v", id, f.Type, f.Machine, machine)
			}
			syms, _ := f.ImportedSymbols() // a static binary has none
			for _, s := range syms {
				if minor, ok := glibcMinor(s.Version); ok && minor > al2023Glibc {
					t.Errorf("%s needs %s@%s; provided.al2023 has glibc 2.%d", id, s.Name, s.Version, al2023Glibc)
				}
			}
		}
	}
	t.Run(runtime.GOARCH, func(t *testing.T) {
		check(t, gatewaytest.Bootstraps(t), machineOf(runtime.GOARCH))
	})
	other, cc := "arm64", "aarch64-linux-gnu-gcc"
	if runtime.GOARCH == "arm64" {
		other, cc = "amd64", "x86_64-linux-gnu-gcc"
	}
	t.Run(other, func(t *testing.T) {
		if _, err := exec.LookPath(cc); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is required in CI to cross-compile the bootstraps (.ci/run installs it)", cc)
			}
			t.Skipf("%s not installed: apt-get install gcc-%s", cc, strings.TrimSuffix(cc, "-gcc"))
		}
		bins, err := lambda.Build(context.Background(), root, t.TempDir(), other)
		if err != nil {
			t.Fatal(err)
		}
		check(t, bins, machineOf(other))
	})
}

func machineOf(goarch string) elf.Machine {
	if goarch == "arm64" {
		return elf.EM_AARCH64
	}
	return elf.EM_X86_64
}

// glibcMinor parses "GLIBC_2.34" as 34.
func glibcMinor(version string) (int, bool) {
	v, ok := strings.CutPrefix(version, "GLIBC_2.")
	if !ok {
		return 0, false
	}
	minor, _, _ := strings.Cut(v, ".")
	n, err := strconv.Atoi(minor)
	return n, err == nil
}

func TestGlibcMinor(t *testing.T) {
	for in, want := range map[string]int{"GLIBC_2.34": 34, "GLIBC_2.2.5": 2, "GLIBC_2.17": 17} {
		if got, ok := glibcMinor(in); !ok || got != want {
			t.Errorf("glibcMinor(%q) = %d, %v", in, got, ok)
		}
	}
	if _, ok := glibcMinor("GCC_3.0"); ok {
		t.Error("GCC_3.0 taken for glibc")
	}
}
