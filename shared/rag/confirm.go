package rag

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"spass/shared/ragdoc"
	"spass/shared/tools"
)

// A destructive RAG tool (delete, update, reindex) acts in two calls: the first
// answers with what it would do (for an update, the diff) and a confirmation
// token; only a second call with the same arguments and confirm set to that
// token acts. The token is random, kept only as its SHA-256, used once, expires
// after ConfirmTTL, and is bound to
//   - the session of the agent turn (outside one: the caller — tenant, end user
//     and token name), so another conversation cannot spend it;
//   - the tool and its arguments, confirm aside, so it cannot approve a different
//     action;
//   - the state it was issued against (the document's version, the index's id),
//     so an approval of a preview does not carry over to a document that changed.
// A token refused for another binding stays valid for its own.

// confirmProp is the argument every destructive tool takes.
const confirmProp = `"confirm": {"type": "string", "maxLength": 128, "description": "The confirm_token of the first call, to carry the action out. Leave it out first: that call changes nothing and shows what would happen."}`

// bindingOf hashes what a token is bound to: the session (or the caller), the
// tool, and the arguments without confirm, in canonical form (keys sorted).
func bindingOf(c tools.Call, tool string, args json.RawMessage) string {
	var m map[string]any
	json.Unmarshal(args, &m) // validated against the tool's schema already
	delete(m, "confirm")
	canon, _ := json.Marshal(m)
	who := "session:" + c.Session
	if c.Session == "" {
		who = "caller:" + c.User + "\x00" + c.Token
	}
	h := sha256.New()
	for _, part := range []string{c.Tenant, who, tool} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	h.Write(canon)
	return hex.EncodeToString(h.Sum(nil))
}

func digest(token string) string {
	d := sha256.Sum256([]byte(token))
	return hex.EncodeToString(d[:])
}

// issue keeps a new token bound to binding and state, and returns the answer of a
// first call: what would happen, and the token.
func (s *Service) issue(ctx context.Context, c tools.Call, binding, state string, would map[string]any) (map[string]any, error) {
	var b [18]byte
	rand.Read(b[:])
	token := "rcf_" + hex.EncodeToString(b[:])
	now := s.Now()
	expires := now.Add(s.ConfirmTTL)
	err := s.Store.SaveRAGConfirmation(ctx, c.Tenant, ragdoc.Confirmation{Digest: digest(token), Binding: binding, State: state,
		ExpiresAt: expires.UnixMilli()}, now.UnixMilli())
	if err != nil {
		return nil, err
	}
	would["status"] = "confirmation_required"
	would["confirm_token"] = token
	would["expires_at"] = expires.UTC().Format(time.RFC3339)
	would["note"] = "Nothing was changed. To proceed, call the same tool again with the same arguments and confirm set to confirm_token; show the user what will happen first."
	return would, nil
}

// redeem spends a token for binding and checks it against the current state; the
// error is a tool error the model can act on.
func (s *Service) redeem(ctx context.Context, c tools.Call, token, binding, state string) error {
	conf, taken, elsewhere, err := s.Store.TakeRAGConfirmation(ctx, c.Tenant, digest(token), binding)
	switch {
	case err != nil:
		return err
	case elsewhere:
		return tools.Errorf("confirmation_mismatch", "this token confirms another action (other arguments, tool or session); nothing was changed")
	case !taken:
		return tools.Errorf("confirmation_invalid", "unknown or already used confirmation token; call again without confirm for a new one")
	case s.Now().UnixMilli() > conf.ExpiresAt:
		return tools.Errorf("confirmation_expired", "the confirmation token expired; call again without confirm for a new one")
	case conf.State != state:
		return tools.Errorf("confirmation_stale", "the target changed since the token was issued; call again without confirm to see the current state")
	}
	return nil
}
