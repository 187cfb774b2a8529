// Package lambdahttp runs one endpoint group's http.Handler as an AWS Lambda function
// (functions/<group>/bootstrap), or as a plain HTTP server when no Lambda runtime is
// around, so a bootstrap binary can be started and debugged by hand.
//
// Under Lambda the same handler answers two kinds of events, both payload format 2.0:
// API Gateway HTTP API route events are answered buffered through
// aws-lambda-go-api-proxy, and Function URL events (InvokeMode RESPONSE_STREAM) are
// answered streamed through aws-lambda-go's lambdaurl. How a function is invoked is
// decided by template.yaml, not by the binary: HTTP APIs cannot stream, so SSE routes
// are reached only through the function's Function URL.
package lambdahttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"spass/shared/app"
	"spass/shared/config"

	"spass/shared/web"
)

// RuntimeAPIEnv is set by the Lambda service (and by local/lambda) to the host:port
// of the Runtime API; its presence means "running as a Lambda function".
const RuntimeAPIEnv = "AWS_LAMBDA_RUNTIME_API"

// Main is the whole body of a bootstrap's main: it builds the app from the
// environment, mounts the group built by newHandler and serves it until the process
// is told to stop. It exits the process with status 1 on a start-up error.
func Main(newHandler func(*app.App) http.Handler) {
	if err := Run(context.Background(), newHandler, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "spass:", err)
		os.Exit(1)
	}
}

// Run serves the group under the Lambda runtime when AWS_LAMBDA_RUNTIME_API is set
// (and then never returns), else over HTTP on SPASS_ADDR until ctx ends or the
// process gets SIGINT or SIGTERM.
func Run(ctx context.Context, newHandler func(*app.App) http.Handler, getenv func(string) string, stdout io.Writer) error {
	underLambda := getenv(RuntimeAPIEnv) != ""
	cfg, err := Config(getenv, underLambda)
	if err != nil {
		return err
	}
	slog.SetDefault(cfg.Log.Logger(os.Stderr)) // CloudWatch reads stderr: one line per request
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	h := newHandler(a)
	if underLambda {
		h = committing(h, a)
		// Lambda sends SIGTERM before it freezes the sandbox for good (only when an
		// extension is registered, which WithEnableSIGTERM does); SIGKILL follows
		// about 500 ms later, so release resources and leave at once.
		lambda.StartWithOptions(Handler(h), lambda.WithContext(ctx), lambda.WithEnableSIGTERM(func() {
			a.Close()
			os.Exit(0)
		}))
		return errors.New("lambda runtime loop returned") // StartWithOptions exits the process itself
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, cfg.Addr, h, a.ServerLimits(), stdout)
}

// commitTimeout bounds the ledger commit at the end of an invocation.
const commitTimeout = 10 * time.Second

// committing commits the ledger rows of a request before its invocation ends.
// Elsewhere the ledger's writer commits them about 100 ms later from a goroutine,
// and the journal keeps them across a crash; a Lambda sandbox is frozen as soon as
// the invocation returns (the goroutine does not run) and may be recycled with its
// /tmp journal, so the rows must be in the database first. It runs inside the
// handler: for a streamed response (lambdaurl) that is before the body's end
// reaches the runtime, for a buffered one before the proxy returns the response.
func committing(h http.Handler, a *app.App) http.Handler {
	if a.Billing == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), commitTimeout)
		defer cancel()
		if err := a.Billing.Ledger.Sync(ctx); err != nil {
			// The rows stay in the journal; this sandbox replays it if it lives on.
			slog.Error("ledger commit at the end of the invocation failed", "err", err)
		}
	})
}

// Config loads the process configuration for a bootstrap. Unlike the dev shim it has
// no embedded default: a Lambda function cannot start the simulator, and a dev token
// printed to CloudWatch would be a leaked credential. So a backend and at least one
// token must be configured, and under Lambda the data dir defaults to /tmp.
func Config(getenv func(string) string, underLambda bool) (*config.Config, error) {
	env := getenv
	if underLambda {
		env = func(k string) string {
			if v := getenv(k); v != "" || k != "SPASS_DATA_DIR" {
				return v
			}
			return filepath.Join(os.TempDir(), "spass") // /tmp: a sandbox's only writable path
		}
	}
	cfg, err := config.Load(env)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if cfg.Embedded {
		return nil, errors.New("config: no backend configured; set BACKEND_KIND, BACKEND_BASE_URL and MODEL_NAME, " +
			"or SPASS_CONFIG to a gateway.yaml (the built-in simulator runs only under the dev shim: make run)")
	}
	if len(cfg.Tenants) == 0 {
		return nil, errors.New("config: no tokens configured; set API_KEYS or give tenants in SPASS_CONFIG")
	}
	return cfg, nil
}

// serve runs h on addr, bounded by l, until ctx ends, then drains in-flight requests.
func serve(ctx context.Context, addr string, h http.Handler, l web.Limits, stdout io.Writer) error {
	ln, err := web.Listen(addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "listening on http://%s (no %s: plain HTTP)\n", ln.Addr(), RuntimeAPIEnv)
	return web.ServeWith(ctx, ln, h, l)
}
