package lambda

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// shutdownGrace is how long an instance that asked for SIGTERM gets before SIGKILL
// (Lambda gives about 500 ms; a little more keeps slow CI machines from flaking).
const shutdownGrace = 2 * time.Second

// instance is one execution environment: a bootstrap process and the Runtime API
// endpoint that only it talks to.
type instance struct {
	p      *pool
	name   string // Function#n, for logs
	srv    *http.Server
	cmd    *exec.Cmd
	tail   *tailBuffer   // the end of the process's stderr, for crash reports
	exited chan struct{} // closed once the process has exited and exitErr is set

	exitErr error

	mu        sync.Mutex
	current   *invocation // the invocation in flight, nil when idle
	ready     bool        // asked for work at least once: its init succeeded
	dead      bool
	spare     bool // guarded by p.mu: see pool.spare
	extension bool // registered an extension, so it wants SIGTERM before SIGKILL
	initErr   *FunctionError
}

func newInstance(p *pool, n int) *instance {
	return &instance{p: p, name: p.fn.Name + "#" + strconv.Itoa(n), tail: &tailBuffer{}, exited: make(chan struct{})}
}

// start serves the instance's Runtime API on a free loopback port and starts the
// process with AWS_LAMBDA_RUNTIME_API pointing at it.
func (in *instance) start() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	in.srv = &http.Server{Handler: in.runtimeAPI(), ReadHeaderTimeout: 10 * time.Second}
	go in.srv.Serve(ln)

	fn := in.p.fn
	tmp := filepath.Join(in.p.e.tmp, in.name)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		in.srv.Close()
		return err
	}
	dir := filepath.Dir(fn.Path)
	cmd := exec.Command(fn.Path)
	cmd.Dir = dir
	// Later entries win: the Lambda variables cannot be overridden by the function's.
	cmd.Env = append(slices.Clone(fn.Env),
		"AWS_LAMBDA_RUNTIME_API="+ln.Addr().String(),
		"AWS_LAMBDA_FUNCTION_NAME="+fn.Name,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE="+strconv.Itoa(fn.MemoryMB),
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/"+fn.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME="+time.Now().UTC().Format("2006/01/02")+"/[$LATEST]"+newID(),
		"AWS_REGION="+region,
		"AWS_DEFAULT_REGION="+region,
		"LAMBDA_TASK_ROOT="+dir,
		"LAMBDA_RUNTIME_DIR="+dir,
		"_HANDLER="+filepath.Base(fn.Path),
		"TMPDIR="+tmp, // each sandbox has its own /tmp
		"TZ=:UTC",
	)
	out := &lineWriter{w: in.p.e.logw, prefix: "[" + in.name + "] "}
	cmd.Stdout = out
	cmd.Stderr = io.MultiWriter(out, in.tail)
	if err := cmd.Start(); err != nil {
		in.srv.Close()
		return err
	}
	in.cmd = cmd
	go in.wait()
	return nil
}

// wait reaps the process and fails whatever invocation it left unanswered.
func (in *instance) wait() {
	err := in.cmd.Wait()
	in.mu.Lock()
	inv := in.current
	in.current, in.dead = nil, true
	in.mu.Unlock()
	in.exitErr = err
	close(in.exited)
	if inv != nil {
		inv.fail(in.crash())
	}
	in.srv.Close()
	in.p.remove(in)
}

// crash describes the process's exit for the log and the waiting client.
func (in *instance) crash() error {
	return fmt.Errorf("%w (%v); stderr ends: %q", errCrashed, in.exitErr, in.tail.String())
}

// initFailure returns why the instance died before asking for work, or nil if it
// did ask. Only call it after exited is closed.
func (in *instance) initFailure() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	switch {
	case in.ready:
		return nil
	case in.initErr != nil:
		return fmt.Errorf("init error: %w", in.initErr)
	default:
		return fmt.Errorf("init failed: %w", in.crash())
	}
}

// take makes inv the instance's current invocation and arms its timeout, which
// kills the process like Lambda does ("Task timed out").
func (in *instance) take(inv *invocation) {
	in.p.setSpare(in, false)
	timeout := in.p.fn.Timeout
	inv.deadline = time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, func() {
		if inv.finished() {
			return
		}
		inv.settle(outcome{err: errTimeout})
		in.kill()
	})
	go func() { <-inv.done; timer.Stop() }()
	in.mu.Lock()
	dead := in.dead
	if !dead {
		in.current = inv
	}
	in.mu.Unlock()
	if dead {
		inv.fail(in.crash())
	}
}

// answering returns the invocation in flight if its id is id.
func (in *instance) answering(id string) *invocation {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.current == nil || in.current.id != id {
		return nil
	}
	return in.current
}

// idle marks the instance ready for work and returns the invocation it was still
// holding, if it asked for more work without answering that one.
func (in *instance) idle() *invocation {
	in.mu.Lock()
	defer in.mu.Unlock()
	prev := in.current
	in.current, in.ready = nil, true
	if prev != nil && prev.finished() {
		prev = nil
	}
	return prev
}

func (in *instance) kill() {
	if in.cmd != nil {
		in.cmd.Process.Kill()
	}
}

// stop ends the process: SIGTERM first if it registered an extension, SIGKILL
// otherwise or after the grace period.
func (in *instance) stop() {
	in.mu.Lock()
	graceful := in.extension
	in.mu.Unlock()
	if !graceful {
		in.kill()
		<-in.exited
		return
	}
	in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.exited:
	case <-time.After(shutdownGrace):
		in.kill()
		<-in.exited
	}
}
