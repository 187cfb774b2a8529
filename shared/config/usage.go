package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
)

// Variable is an environment variable a binary reads, for its -h.
type Variable struct{ Name, Meaning string }

// Variables are the environment variables of the gateway's configuration, as
// docs/configuration.md lists them (a test keeps the two in step).
var Variables = []Variable{
	{"BACKEND_KIND", "kind of the one quick-start backend: " + kindList() + " (none: the built-in simulator under make run)"},
	{"BACKEND_BASE_URL", "that backend's URL (required with BACKEND_KIND, except openai, openrouter, ollama-cloud)"},
	{"BACKEND_API_KEY", "that backend's own key"},
	{"BACKEND_API_KEY_FILE", "or a file holding it: a path, or a name in $CREDENTIALS_DIRECTORY or /run/secrets (re-read on SIGHUP)"},
	{"CREDENTIALS_DIRECTORY", "set by systemd LoadCredential=: where api_key_file and sha256_file names are looked up first"},
	{"MODEL_NAME", "comma-separated model ids it serves (needs BACKEND_KIND; default every model it lists)"},
	{"API_KEYS", "comma-separated bearer tokens of the default tenant (default under make run: a printed dev token)"},
	{OperatorTokenEnv, "the operator's token: /metrics, /statsz, /admin/queues/ (at least 16 characters)"},
	{MetricsTokenEnv, "a Prometheus scrape's token: /metrics and /statsz only"},
	{"SPASS_ADDR", "listen address (default 127.0.0.1:8080)"},
	{"SPASS_DATA_DIR", "SQLite files and the kept tokens (default ./data)"},
	{"SPASS_CONFIG", "path of gateway.yaml: several backends, tier chains, tenants"},
	{"SPASS_AGENTS_DIR", "the /a1 file agents, one YAML file each"},
	{"DATABASE_URL", "postgres://... to share the store between hosts (default: SQLite under the data dir)"},
	{"REDIS_URL", "Redis for queues, shared rate limits and the response cache (default: jobs in-process)"},
	{"SPASS_WORKERS", "inprocess: run the asynq workers inside the gateway"},
	{LogFormatEnv, "the log on stderr: text (default) or json, one line per request"},
	{LogLevelEnv, "debug, info (default), warn or error"},
	{ShutdownTimeoutEnv, "on SIGTERM/Ctrl-C, how long running requests get to finish (default 30s)"},
	{"SPASS_<SETTING>", "process level of a tenant setting, e.g. SPASS_BILLING_MARKUP_PERCENT"},
}

// kindList names the kinds a quick start may use (the simulator is make run's own).
func kindList() string {
	var kinds []string
	for _, k := range Kinds {
		if k != "simulator" {
			kinds = append(kinds, k)
		}
	}
	return strings.Join(kinds, ", ")
}

// Usage makes fs's -h print about, the flags (if any) and vars, to fs's output.
func Usage(fs *flag.FlagSet, about string, vars []Variable) {
	fs.Usage = func() {
		w := fs.Output()
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		fmt.Fprintf(w, "%s\n\nUsage: %s%s\n", about, filepath.Base(fs.Name()), map[bool]string{true: " [flags]"}[hasFlags])
		if hasFlags {
			fmt.Fprintln(w, "\nFlags:")
			fs.PrintDefaults()
		}
		if len(vars) > 0 {
			fmt.Fprintln(w, "\nEnvironment:")
			PrintVariables(w, vars)
		}
	}
}

// PrintVariables writes vars as an aligned two-column list.
func PrintVariables(w io.Writer, vars []Variable) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, v := range vars {
		fmt.Fprintf(tw, "  %s\t%s\n", v.Name, v.Meaning)
	}
	tw.Flush()
}

// ParseFlags parses a binary's command line with fs, whose -h (and -help) print
// about, the flags and vars to w. help reports that -h was asked: the caller exits 0.
func ParseFlags(fs *flag.FlagSet, about string, vars []Variable, args []string, w io.Writer) (help bool, err error) {
	fs.SetOutput(w)
	Usage(fs, about, vars)
	if err := fs.Parse(args); err != nil {
		return errors.Is(err, flag.ErrHelp), err
	}
	if fs.NArg() > 0 {
		return false, fmt.Errorf("unexpected argument %q (see %s -h)", fs.Arg(0), fs.Name())
	}
	return false, nil
}

// Pick returns the Variables with the given names, in that order, for a binary
// that reads only some of them.
func Pick(names ...string) []Variable {
	var out []Variable
	for _, n := range names {
		for _, v := range Variables {
			if v.Name == n {
				out = append(out, v)
			}
		}
	}
	return out
}
