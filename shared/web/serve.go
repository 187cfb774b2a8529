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
}

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
// gracefully, giving open requests (streams included) ten seconds to finish.
func ServeWith(ctx context.Context, ln net.Listener, h http.Handler, l Limits) error {
	l = l.withDefaults()
	cuts := &cutter{obs: l.Observer}
	lim := newLimitListener(ln, l, cuts)
	srv := &http.Server{
		Handler:           bodyDeadline(h, l.Body, cuts),
		ReadHeaderTimeout: l.ReadHeader,
		IdleTimeout:       l.Idle,
		ConnState:         lim.connState,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lim) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
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
