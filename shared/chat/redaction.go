package chat

import (
	"strings"

	"spass/shared/apierr"
	"spass/shared/redact"
	"spass/shared/router"
	"spass/shared/tenantcfg"
)

// PolicyCounter counts what the data policies did (metrics.Policy is one): the
// overflow guard's outcomes and the values redacted, by kind.
type PolicyCounter interface {
	Overflow(outcome string)
	Redacted(kind string, n int)
}

// redaction is a request's redaction before cloud tiers (tenant setting
// redaction.cloud). Each upstream attempt to a cloud backend sends the body
// redacted; local backends get it as written. Answers are restored before anyone
// reads them: a buffered answer as it arrives (fetch), a stream in the writer the
// sink hands out, so clients, Result.Reply, the cache and stack tools see the
// values and never a placeholder.
type redaction struct {
	rules *redact.Rules
	r     *redact.Redactor // made by the first cloud attempt
	w     *restoreWriter   // the committed stream's writer
}

// startRedaction turns redaction on for the tenant's request and wraps the
// sink so that streamed answers are restored.
func (c *call) startRedaction() error {
	if c.eff == nil || !c.eff.Bool(tenantcfg.RedactionCloud) {
		return nil
	}
	patterns := c.eff.Strings(tenantcfg.RedactionPatterns)
	key := strings.Join(patterns, "\x00")
	rules, ok := c.s.rules.Load(key)
	if !ok {
		compiled, err := redact.Compile(patterns)
		if err != nil { // the setting was checked when stored: refuse rather than leak
			return apierr.E(apierr.Internal, "", err)
		}
		rules, _ = c.s.rules.LoadOrStore(key, compiled)
	}
	c.red = &redaction{rules: rules.(*redact.Rules)}
	c.sink = &redactSink{Sink: c.sink, c: c}
	return nil
}

// outbound returns the body one attempt sends to t: redacted for a cloud
// backend when the tenant asked for it. A body that cannot be redacted is not
// sent at all.
func (c *call) outbound(t router.Target, body []byte) ([]byte, error) {
	return c.redactBody(t, body, (*redact.Redactor).Body)
}

// redactBody is outbound for a body of any shape: form redacts it.
func (c *call) redactBody(t router.Target, body []byte, form func(*redact.Redactor, []byte) ([]byte, error)) ([]byte, error) {
	if !c.redacts(t) {
		return body, nil
	}
	if c.red.r == nil {
		c.red.r = redact.New(c.red.rules)
	}
	out, err := form(c.red.r, body)
	if err != nil {
		return nil, apierr.E(apierr.Internal, "", err)
	}
	return out, nil
}

// redacts reports whether an attempt to t sends a redacted body: t is a cloud
// backend and the tenant asked for redaction.
func (c *call) redacts(t router.Target) bool {
	return c != nil && c.red != nil && t.Backend.Profile.Cloud
}

// inbound restores a complete JSON answer.
func (c *call) inbound(out []byte) []byte {
	if c.red == nil {
		return out
	}
	return c.red.r.Restore(out)
}

// restoreTurn restores a streamed turn's stack-tool calls and text before the
// tools run: a tool gets the real address, not [EMAIL_1].
func (c *call) restoreTurn(content string, calls []*toolCall) string {
	if c.red == nil || c.red.r.Empty() {
		return content
	}
	for _, tc := range calls {
		args := string(c.red.r.Restore([]byte(tc.Args.String())))
		tc.Args.Reset()
		tc.Args.WriteString(args)
	}
	return c.red.r.RestoreText(content)
}

// endRedaction settles a request's redaction: Result.Reply reads the restored
// stream, and the values redacted are counted.
func (c *call) endRedaction() {
	if c.red == nil {
		return
	}
	if w := c.red.w; w != nil && w.record {
		c.res.events = w.tr
	}
	if c.s.Policy != nil && c.red.r != nil {
		for k, n := range c.red.r.Counts() {
			c.s.Policy.Redacted(string(k), n)
		}
	}
}

// redacted returns what the ledger row says: whether a body was redacted and
// how many distinct values.
func (c *call) redacted() (ran bool, items int) {
	if c.red == nil || c.red.r == nil {
		return false, 0
	}
	return true, c.red.r.Items()
}

// redactSink restores the placeholders of a stream before its events reach the
// receiver. JSON answers pass through: fetch restored them.
type redactSink struct {
	Sink
	c *call
}

func (s *redactSink) Events() EventWriter {
	w := &restoreWriter{w: s.Sink.Events(), red: s.c.red, record: !s.c.opts.NoReply}
	s.c.red.w = w
	return w
}

// restoreWriter restores each event (see redact.Stream). Until a cloud attempt
// redacted something it writes events as they come.
type restoreWriter struct {
	w      EventWriter
	red    *redaction
	st     *redact.Stream
	record bool       // keep the restored events for Result.Reply
	tr     transcript // the events as the receiver got them
}

func (w *restoreWriter) Write(data []byte) error {
	if w.st == nil {
		if w.red.r.Empty() {
			w.keep(data)
			return w.w.Write(data)
		}
		w.st = redact.NewStream(w.red.r)
	}
	for _, e := range w.st.Event(data) {
		w.keep(e)
		if err := w.w.Write(e); err != nil {
			return err
		}
	}
	return nil
}

func (w *restoreWriter) keep(data []byte) {
	if w.record {
		w.tr.add(data)
	}
}

func (w *restoreWriter) Flush() error { return w.w.Flush() }
func (w *restoreWriter) Close()       { w.w.Close() }
