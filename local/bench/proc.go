package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"spass/functions"
	"spass/shared/app"
	"spass/shared/web"
)

// The cost run puts each target in a process of its own, so that its CPU time and
// peak RSS are its own: in one shared process the load generator and the simulator
// would blur both. The bench binary starts itself again as the target, with the
// target's spec in childEnv; the child serves it on a loopback port, prints its base
// URL on stdout, then answers each "stats" line on stdin with its resource usage,
// until stdin closes (the parent ended, one way or another) and it exits.

// childEnv holds a child's ChildSpec as JSON.
const childEnv = "SPASS_BENCH_CHILD"

// Kinds of target process.
const (
	KindGateway = "gateway"
	KindBare    = "bare"
)

// ChildSpec describes one target process.
type ChildSpec struct {
	Kind     string `json:"kind"`     // KindGateway or KindBare
	Upstream string `json:"upstream"` // the simulator's base URL
	// Dir is the gateway's data directory; YAML and StackTools as in GatewaySetup.
	Dir        string `json:"dir,omitempty"`
	YAML       string `json:"yaml,omitempty"`
	StackTools bool   `json:"stack_tools,omitempty"`
	// CPUProfile and MemProfile, if set, are written by the child: a CPU profile
	// of its life, and its allocations profile when it exits.
	CPUProfile string `json:"cpu_profile,omitempty"`
	MemProfile string `json:"mem_profile,omitempty"`
}

// ProcStats is a target process's resource usage so far.
type ProcStats struct {
	CPU     time.Duration `json:"cpu_ns"`         // user plus system CPU time
	PeakRSS int64         `json:"peak_rss_bytes"` // the resident set's high-water mark
	// FileRSS is the file-backed part of the resident set now: the pages of the
	// binary, which holds the whole benchmark (simulator, gateway, proxy).
	FileRSS int64 `json:"file_rss_bytes"`
	// HeapSys and GoSys are the Go runtime's heap and total memory from the OS.
	HeapSys uint64 `json:"heap_sys_bytes"`
	GoSys   uint64 `json:"go_sys_bytes"`
	NumGC   uint32 `json:"num_gc"`
}

// ChildMain serves a target when this process was started as one (see StartProc),
// and then reports true; a main or TestMain calls it first and returns when it
// does. Otherwise it returns false at once.
func ChildMain() bool {
	spec := os.Getenv(childEnv)
	if spec == "" {
		return false
	}
	if err := runChild(spec, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench target:", err)
		os.Exit(1)
	}
	return true
}

// runChild serves the target described by specJSON until in closes.
func runChild(specJSON string, in io.Reader, out io.Writer) error {
	var s ChildSpec
	if err := json.Unmarshal([]byte(specJSON), &s); err != nil {
		return err
	}
	if s.CPUProfile != "" {
		f, err := os.Create(s.CPUProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	served := make(chan error, 1)
	switch s.Kind {
	case KindGateway:
		cfg, err := loadConfig(s.Dir, s.Upstream, GatewaySetup{YAML: s.YAML, StackTools: s.StackTools})
		if err != nil {
			return fmt.Errorf("config: %w", err)
		}
		// The load generator is one client with hundreds of connections at once.
		cfg.Server.MaxConnsPerClient = -1
		a, err := app.Open(ctx, cfg)
		if err != nil {
			return err
		}
		defer a.Close()
		// Request lines are formatted as in production but not written (see AddGateway).
		a.Log = slog.New(slog.NewJSONHandler(io.Discard, nil))
		// The production server loop, as cmd/gateway runs it.
		go func() { served <- web.ServeWith(ctx, ln, functions.Handler(a), a.ServerLimits()) }()
	case KindBare:
		u, err := url.Parse(s.Upstream)
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: bareProxy(u), ReadHeaderTimeout: 10 * time.Second}
		go func() { served <- srv.Serve(ln) }()
		defer srv.Close()
	default:
		return fmt.Errorf("unknown target kind %q", s.Kind)
	}
	fmt.Fprintf(out, "http://%s\n", ln.Addr())
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		if sc.Text() != "stats" {
			continue
		}
		b, _ := json.Marshal(selfStats())
		if _, err := fmt.Fprintf(out, "%s\n", b); err != nil {
			return err
		}
	}
	stop()
	if s.MemProfile != "" {
		if err := writeAllocs(s.MemProfile); err != nil {
			return err
		}
	}
	select {
	case err := <-served:
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		return err
	case <-time.After(5 * time.Second):
		return nil
	}
}

func writeAllocs(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.Lookup("allocs").WriteTo(f, 0)
}

// selfStats reads this process's resource usage.
func selfStats() ProcStats {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	cpu, rss := rusage()
	hwm, file, ok := procStatus()
	if ok {
		rss = hwm
	}
	return ProcStats{CPU: cpu, PeakRSS: rss, FileRSS: file, HeapSys: ms.HeapSys, GoSys: ms.Sys, NumGC: ms.NumGC}
}

// procStatus returns this process's peak RSS (VmHWM) and the file-backed part of
// its RSS now (RssFile: the binary's pages) from /proc/self/status (Linux).
// Unlike getrusage's ru_maxrss, which Linux carries over an exec from the address
// space the process was forked with (here the benchmark's whole parent process),
// VmHWM is the high-water mark of this program's own memory.
func procStatus() (hwm, file int64, ok bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0, false
	}
	kb := func(v string) int64 {
		n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		return n << 10
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, found := strings.CutPrefix(line, "VmHWM:"); found {
			hwm, ok = kb(v), true
		} else if v, found := strings.CutPrefix(line, "RssFile:"); found {
			file = kb(v)
		}
	}
	return hwm, file, ok
}

// InstalledCopy copies the binary exe into dir as cp and install write a file,
// and returns the copy's path. Peak RSS counts the binary's pages a process maps, and
// how many a fault maps depends on how the file entered the page cache: Linux
// 6.18 on ext4 maps a whole page-cache folio per fault, and the Go linker (which
// writes its output through a memory mapping) and cold reads leave folios of up
// to a megabyte, so a process that touches code all over the binary maps most of
// it; a file written in small writes keeps base pages, mapped 64 KB around each
// fault. Run from the linker's output, both targets' peak RSS grows by 6 to 15 MB
// of those shared, clean pages (docs/performance.md); from a copy it counts the
// code each touches.
func InstalledCopy(exe, dir string) (string, error) {
	src, err := os.Open(exe)
	if err != nil {
		return "", err
	}
	defer src.Close()
	path := filepath.Join(dir, filepath.Base(exe))
	dst, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return "", err
	}
	// 32 KB writes, through plain Reader and Writer views: io.Copy would hand the
	// files to copy_file_range, whose page-cache layout is the filesystem's choice.
	_, err = io.CopyBuffer(struct{ io.Writer }{dst}, struct{ io.Reader }{src}, make([]byte, 32<<10))
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	return path, err
}

// Proc is a target process started by StartProc.
type Proc struct {
	URL  string // its base URL
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
	done chan struct{}
}

// StartProc starts exe, this binary or a copy of it (InstalledCopy), as the
// target spec describes and waits until it serves. The binary's main (or
// TestMain) must call ChildMain first.
func StartProc(exe string, spec ChildSpec) (*Proc, error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), childEnv+"="+string(b))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Proc{cmd: cmd, in: in, out: bufio.NewReader(stdout), done: make(chan struct{})}
	line, err := p.out.ReadString('\n')
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("%s target did not start: %w", spec.Kind, err)
	}
	p.URL = line[:len(line)-1]
	return p, nil
}

// Stats asks the process for its resource usage so far.
func (p *Proc) Stats() (ProcStats, error) {
	var s ProcStats
	if _, err := io.WriteString(p.in, "stats\n"); err != nil {
		return s, err
	}
	line, err := p.out.ReadBytes('\n')
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal(line, &s)
}

// Close ends the process (closing its stdin) and waits for it, killing it when it
// takes longer than 10 s.
func (p *Proc) Close() error {
	p.in.Close()
	go func() {
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			p.cmd.Process.Kill()
		}
	}()
	err := p.cmd.Wait()
	close(p.done)
	return err
}
