package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// Limits bound what slow, idle and numerous clients can hold of a server. A zero
// field means its default; a negative connection bound means none. Nothing bounds
// how long a response takes (no WriteTimeout): a stream that keeps moving runs as
// long as the model writes.
type Limits struct {
	// ReadHeader bounds reading a request's headers (default 10 s).
	ReadHeader time.Duration
	// Idle closes a keep-alive connection that carried no request this long
	// (default 60 s).
	Idle time.Duration
	// Body bounds reading a request's body, counted from the handler's start
	// (default 60 s). Past it the read fails, the handler answers 408
	// request_timeout and the connection is closed.
	Body time.Duration
	// MaxConns bounds the open connections of the server (default 4096).
	MaxConns int
	// MaxConnsPerClient bounds the open connections from one IP address
	// (default 256). Connections over a bound get a 429 too_many_connections and
	// are closed before any request is read.
	MaxConnsPerClient int
	// Observer counts what is cut; nil counts nothing.
	Observer CutObserver
	// Shutdown bounds the graceful shutdown once ctx ends (default 30 s): the
	// listener closes at once, running requests and streams get this long to
	// finish; then the ones left are logged, their contexts cancelled and their
	// connections closed.
	Shutdown time.Duration
	// Log receives the shutdown's lines; nil means slog.Default().
	Log *slog.Logger
}

// DefaultShutdown is Limits.Shutdown's default.
const DefaultShutdown = 30 * time.Second

// cutGrace is how long the handlers of cut requests get to return (and bill what
// they served) after their connections were closed.
const cutGrace = 5 * time.Second

// CutObserver counts what the server cut (the metrics' spass_server_cuts_total).
type CutObserver interface {
	Cut(reason string)
}

// Reasons a connection or a request is cut.
const (
	CutClientConns = "client_conn_limit"
	CutConns       = "conn_limit"
	CutBody        = "body_timeout"
	CutIdle        = "idle_timeout"
)

// withDefaults fills in the zero fields.
func (l Limits) withDefaults() Limits {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&l.ReadHeader, 10*time.Second)
	def(&l.Idle, 60*time.Second)
	def(&l.Body, 60*time.Second)
	def(&l.Shutdown, DefaultShutdown)
	if l.MaxConns == 0 {
		l.MaxConns = 4096
	}
	if l.MaxConnsPerClient == 0 {
		l.MaxConnsPerClient = 256
	}
	return l
}

// Serve serves h on ln with the default Limits until ctx ends; see ServeWith.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	return ServeWith(ctx, ln, h, Limits{})
}

// ServeWith serves h on ln, bounded by l, until ctx ends, then shuts down
// gracefully: no new connections, and open requests (streams included) get
// l.Shutdown to finish. Requests still running then are logged one line each and
// cut: their contexts end (the chat core bills what was served) and their
// connections close. ServeWith returns once their handlers have returned, so the
// caller's deferred ledger drain sees their rows.
func ServeWith(ctx context.Context, ln net.Listener, h http.Handler, l Limits) error {
	l = l.withDefaults()
	log := logger(l.Log)
	cuts := &cutter{obs: l.Observer}
	lim := newLimitListener(ln, l, cuts)
	running := &inflight{}
	base, cancelRequests := context.WithCancel(context.Background())
	defer cancelRequests()
	srv := &http.Server{
		Handler:           running.track(bodyDeadline(h, l.Body, cuts)),
		ReadHeaderTimeout: l.ReadHeader,
		IdleTimeout:       l.Idle,
		ConnState:         lim.connState,
		BaseContext:       func(net.Listener) context.Context { return base },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lim) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: accepting no new connections", "in_flight", running.count(), "shutdown_timeout", l.Shutdown.String())
	shutdown, cancel := context.WithTimeout(context.Background(), l.Shutdown)
	defer cancel()
	err := srv.Shutdown(shutdown)
	if err == nil {
		log.Info("shutdown complete: every request finished")
		return nil
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	n := running.logCut(log, l.Shutdown)
	cancelRequests()
	srv.Close()
	if !running.wait(cutGrace) {
		log.Warn("shutdown: handlers still running after their requests were cut", "in_flight", running.count())
	}
	log.Warn("shutdown complete: the deadline cut requests", "cut", n, "shutdown_timeout", l.Shutdown.String())
	return nil
}

// bodyDeadline sets a read deadline on the connection of every request with a body.
// net/http clears it itself once the body is read (its background read for the
// client's close starts then), so the deadline bounds the body and never a
// response that streams after it.
func bodyDeadline(next http.Handler, d time.Duration, cuts *cutter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
			if http.NewResponseController(w).SetReadDeadline(time.Now().Add(d)) == nil {
				r.Body = &deadlineBody{ReadCloser: r.Body, cuts: cuts, client: r.RemoteAddr}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// deadlineBody counts and logs a body read cut by its deadline, once per request.
type deadlineBody struct {
	io.ReadCloser
	cuts   *cutter
	client string
	cut    bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !b.cut && errors.Is(err, os.ErrDeadlineExceeded) {
		b.cut = true
		b.cuts.cut(CutBody, b.client)
	}
	return n, err
}

// cutter counts every cut and logs them at most once per logEvery, with how many
// went unlogged since, so a flood of refused connections cannot flood the log.
type cutter struct {
	obs CutObserver

	mu         sync.Mutex
	logged     time.Time
	suppressed int
}

const logEvery = 10 * time.Second

// cut records one cut; client is the address it came from.
func (c *cutter) cut(reason, client string) {
	if c.obs != nil {
		c.obs.Cut(reason)
	}
	if reason == CutIdle {
		return // the ordinary end of a keep-alive connection: counted, not logged
	}
	c.mu.Lock()
	now := time.Now()
	if now.Sub(c.logged) < logEvery {
		c.suppressed++
		c.mu.Unlock()
		return
	}
	n := c.suppressed
	c.logged, c.suppressed = now, 0
	c.mu.Unlock()
	slog.Warn("server cut a client", "reason", reason, "client", client, "unlogged_cuts_before", n)
}
