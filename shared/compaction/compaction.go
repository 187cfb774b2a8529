// Package compaction keeps an agent session within its model's context window.
// The older turns of the session's current segment are replaced, in what later
// turns send, by a model-written summary plus durable facts taken from them by
// rule (see facts.go); the last turns stay verbatim. Each compaction closes the
// segment and opens the next, linked to it: every original message stays in the
// store, and the lineage lists the segments.
package compaction

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"spass/shared/agent"
	"spass/shared/apierr"
	"spass/shared/chat"
	"spass/shared/identity"
	"spass/shared/requestid"
	"spass/shared/router"
	"spass/shared/store"
	"spass/shared/tenantcfg"
)

// Service compacts sessions with the chat core and the store.
type Service struct {
	Chat     *chat.Service
	Store    *store.DB
	Router   *router.Router     // the models' context windows
	Settings *tenantcfg.Service // the tenants' compaction settings; nil: defaults
	Find     Finder             // the agent of a session
}

// Window is what one session sends: the summary message of its past segments
// (empty for the first), the replayed messages of its current segment, and the
// segment itself.
type Window struct {
	Segment  agent.Segment
	Summary  *chat.Message
	Messages []agent.Message
}

// maxReplay bounds the messages one turn reads back: compaction keeps a segment
// far below it; it only protects against a session whose model has a huge window.
const maxReplay = 5000

// Load reads what the session's next turn replays: its current segment only, so
// a turn costs the same however many segments the lineage holds.
func (s *Service) Load(ctx context.Context, tenant string, sess agent.Session) (Window, error) {
	seg, ok, err := s.Store.CurrentSegment(ctx, tenant, sess.ID)
	if err != nil || !ok {
		return Window{}, fmt.Errorf("session %s has no segment: %v", sess.ID, err)
	}
	w := Window{Segment: seg}
	w.Summary = SummaryMessage(w.Segment)
	w.Messages, err = s.Store.SessionMessages(ctx, tenant, sess.ID, w.Segment.StartSeq-1, maxReplay, true)
	return w, err
}

// SummaryMessage is the system message that stands for a segment's past, nil for
// the first segment.
func SummaryMessage(seg agent.Segment) *chat.Message {
	var facts []string
	json.Unmarshal(seg.Facts, &facts)
	if seg.Summary == "" && len(facts) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("Summary of the earlier conversation:\n")
	b.WriteString(seg.Summary)
	if len(facts) > 0 {
		b.WriteString("\n\nFacts to keep in mind:\n")
		for _, f := range facts {
			b.WriteString("- " + f + "\n")
		}
	}
	return &chat.Message{Role: "system", Content: b.String()}
}

// Compact closes the current segment of sess and opens the next: the turns before
// the last keep are summarized. The caller holds the session's lease. parent is
// the request the compaction is billed under (its model call is a sub-call).
// It reports false when there was nothing older than the kept turns.
func (s *Service) Compact(ctx context.Context, p identity.Principal, sess agent.Session, a agent.Agent, keep int, window int, parent string) (bool, error) {
	w, err := s.Load(ctx, p.Tenant, sess)
	if err != nil {
		return false, err
	}
	turns := splitTurns(w.Messages)
	if len(turns) <= keep {
		return false, nil
	}
	older := turns[:len(turns)-keep]
	cut := sess.NextSeq
	if keep > 0 {
		cut = turns[len(turns)-keep][0].Seq
	}
	var texts []string
	var transcript strings.Builder
	for _, t := range older {
		for _, m := range t {
			var cm chat.Message
			json.Unmarshal(m.Body, &cm)
			text := cm.Text()
			if cm.Role == "user" || cm.Role == "assistant" {
				texts = append(texts, text)
			}
			fmt.Fprintf(&transcript, "%s: %s\n", cm.Role, text)
		}
	}
	var oldFacts []string
	json.Unmarshal(w.Segment.Facts, &oldFacts)
	facts := Merge(oldFacts, Extract(texts), window*4*15/100) // facts take at most 15 % of the window
	summary := s.summarize(ctx, p, sess, a, w.Segment.Summary, transcript.String(), window, parent)
	fb, _ := json.Marshal(facts)
	next := agent.Segment{Number: w.Segment.Number + 1, StartSeq: cut, Summary: summary, Facts: fb, Turn: parent}
	return s.Store.OpenSegment(ctx, p.Tenant, sess.ID, next)
}

// summarize asks the agent's model for a summary of the previous summary and the
// transcript, cut to fit its window. If the model fails, the summary is taken
// from the text itself (the first sentences of each message): a compaction must
// not fail a turn.
func (s *Service) summarize(ctx context.Context, p identity.Principal, sess agent.Session, a agent.Agent, prev, transcript string, window int, parent string) string {
	budget := window * 4 * 55 / 100 // bytes: 55 % of the window, four bytes a token
	text := "Previous summary:\n" + prev + "\n\nConversation to add:\n" + transcript
	if len(text) > budget {
		text = "Previous summary:\n" + clip(prev, budget/3) + "\n\nConversation to add (its end):\n" + tail(transcript, budget-budget/3)
	}
	maxTokens := max(64, min(1024, window/8))
	req, err := chat.NewRequest(a.Model, []chat.Message{
		{Role: "system", Content: "You compress a conversation between a user and an assistant into a short summary that keeps names, numbers, decisions and open tasks. Answer with the summary only."},
		{Role: "user", Content: text},
	}, chat.Params{MaxTokens: maxTokens})
	if err == nil {
		cctx := requestid.With(ctx, fmt.Sprintf("%s-compact-%d", parent, sess.Segment+1))
		res, cerr := s.Chat.Complete(cctx, p, req, chat.Options{Surface: chat.SurfaceA1, Ref: sess.ID, Agent: a.Name, Session: sess.ID,
			Parent: parent, Tools: chat.ToolPolicy{None: true}}, &chat.Memory{})
		if cerr == nil {
			if out := strings.TrimSpace(res.Reply().Message.Text()); out != "" {
				return clip(out, maxTokens*4)
			}
		}
		err = cerr
	}
	slog.Warn("compaction: the model wrote no summary; using an extract", "session", sess.ID, "err", err)
	return clip(prev+"\n"+extractive(transcript), maxTokens*4)
}

// splitTurns groups messages into turns, each starting at a user message.
func splitTurns(msgs []agent.Message) [][]agent.Message {
	var turns [][]agent.Message
	for _, m := range msgs {
		if m.Role == "user" || len(turns) == 0 {
			turns = append(turns, nil)
		}
		turns[len(turns)-1] = append(turns[len(turns)-1], m)
	}
	return turns
}

// extractive is a summary made of each line's first sentence.
func extractive(transcript string) string {
	var b strings.Builder
	for _, line := range strings.Split(transcript, "\n") {
		if first := sentenceBreak.Split(line, 2)[0]; strings.TrimSpace(first) != "" {
			b.WriteString(clip(first, 200) + "\n")
		}
	}
	return b.String()
}

func clip(s string, n int) string { return apierr.Clip(s, n) }

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
