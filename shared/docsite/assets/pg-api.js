// The playground's conversation with the gateway: where the token lives, the
// request headers, and reading answers — plain JSON or a Server-Sent Events stream
// read with fetch and a ReadableStream, so tokens show as they arrive.

const TOKEN_KEY = 'spass.playground.token';
const USER_KEY = 'spass.playground.user';

// The token is kept in sessionStorage, or localStorage when the user asks to be
// remembered; it never leaves the browser except as this gateway's Authorization
// header (the page's Content-Security-Policy allows no other destination).
export const credentials = {
  load() {
    const remembered = localStorage.getItem(TOKEN_KEY);
    return {
      token: remembered ?? sessionStorage.getItem(TOKEN_KEY) ?? '',
      remember: remembered !== null,
      user: localStorage.getItem(USER_KEY) ?? 'playground',
    };
  },
  save({ token, remember, user }) {
    sessionStorage.removeItem(TOKEN_KEY);
    localStorage.removeItem(TOKEN_KEY);
    if (token) (remember ? localStorage : sessionStorage).setItem(TOKEN_KEY, token);
    localStorage.setItem(USER_KEY, user);
  },
};

// ApiError carries the gateway's catalog error.
export class ApiError extends Error {
  constructor(status, body, requestId) {
    const e = body?.error ?? {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || 'http_' + status;
    this.requestId = requestId || '';
  }
}

function headers(cred, json) {
  const h = { Authorization: 'Bearer ' + cred.token };
  if (cred.user) h['SPASS-User-Id'] = cred.user;
  if (json) h['Content-Type'] = 'application/json';
  return h;
}

async function failure(resp) {
  let body = null;
  try { body = await resp.json(); } catch { /* not JSON */ }
  return new ApiError(resp.status, body, resp.headers.get('SPASS-Request-Id'));
}

// modelInfo returns GET /v1/info's models.
export async function modelInfo(cred) {
  const resp = await fetch('/v1/info', { headers: headers(cred, false) });
  if (!resp.ok) throw await failure(resp);
  return (await resp.json()).data;
}

// served picks the headers that say how a request was served.
function served(resp) {
  const out = {};
  for (const name of ['SPASS-Request-Id', 'SPASS-Conversation-Id', 'SPASS-Backend', 'SPASS-Tier', 'SPASS-Fallback-Count']) {
    const v = resp.headers.get(name);
    if (v !== null) out[name] = v;
  }
  return out;
}

// chat sends one chat completion and returns the assistant message. With
// body.stream it calls onDelta(text) for every content fragment as it arrives.
export async function chat(cred, body, { onHeaders = () => {}, onDelta = () => {}, signal } = {}) {
  const resp = await fetch('/v1/chat/completions', {
    method: 'POST', headers: headers(cred, true), body: JSON.stringify(body), signal,
  });
  onHeaders(served(resp));
  if (!resp.ok) throw await failure(resp);
  if (!body.stream) {
    const c = await resp.json();
    const msg = c.choices[0].message;
    if (msg.content) onDelta(msg.content);
    return { message: msg, finishReason: c.choices[0].finish_reason, chunks: 1 };
  }
  return readStream(resp, onDelta);
}

// converse sends one /c1/chat turn and returns the assistant message and the
// conversation's id (from SPASS-Conversation-Id, which a failed turn carries too:
// onConversation hears it before any error). With body.stream it calls
// onDelta(text) as fragments arrive; the stream's opening event has no choices.
export async function converse(cred, body, { onHeaders = () => {}, onConversation = () => {}, onDelta = () => {} } = {}) {
  const resp = await fetch('/c1/chat', { method: 'POST', headers: headers(cred, true), body: JSON.stringify(body) });
  onHeaders(served(resp));
  const id = resp.headers.get('SPASS-Conversation-Id');
  if (id) onConversation(id);
  if (!resp.ok) throw await failure(resp);
  if (!body.stream) {
    const t = await resp.json();
    if (t.message.content) onDelta(t.message.content);
    return { message: t.message, finishReason: t.finish_reason, conversationId: t.conversation_id, turnsLeftOut: t.turns_left_out };
  }
  return { ...(await readStream(resp, onDelta)), conversationId: id };
}

// listConversations returns a page of GET /c1/conversations (after: a next_cursor).
export async function listConversations(cred, after = '') {
  const q = new URLSearchParams({ limit: '20' });
  if (after) q.set('after', after);
  const resp = await fetch('/c1/conversations?' + q, { headers: headers(cred, false) });
  if (!resp.ok) throw await failure(resp);
  return resp.json();
}

// getConversation returns a conversation with all its messages, page by page.
export async function getConversation(cred, id) {
  let conv = null;
  const messages = [];
  for (let after = 0; ;) {
    const resp = await fetch(`/c1/conversations/${encodeURIComponent(id)}?limit=1000&after=${after}`, { headers: headers(cred, false) });
    if (!resp.ok) throw await failure(resp);
    const page = await resp.json();
    conv ??= page;
    messages.push(...page.data);
    if (!page.has_more || !page.data.length) break;
    after = page.data.at(-1).seq;
  }
  return { ...conv, data: messages };
}

async function getJSON(cred, path) {
  const resp = await fetch(path, { headers: headers(cred, false) });
  if (!resp.ok) throw await failure(resp);
  return resp.json();
}

async function postJSON(cred, path, body) {
  const resp = await fetch(path, { method: 'POST', headers: headers(cred, true), body: JSON.stringify(body) });
  if (!resp.ok) throw await failure(resp);
  return resp.json();
}

// listAgents returns the agents of GET /a1/agents.
export async function listAgents(cred) {
  return (await getJSON(cred, '/a1/agents')).data;
}

// listSessions returns the user's newest sessions with an agent.
export async function listSessions(cred, agent) {
  return (await getJSON(cred, `/a1/agents/${encodeURIComponent(agent)}/sessions?limit=20`)).data;
}

// createSession opens a session with an agent and returns it.
export function createSession(cred, agent) {
  return postJSON(cred, `/a1/agents/${encodeURIComponent(agent)}/sessions`, {});
}

// sessionMessages returns every message of a session, page by page.
export async function sessionMessages(cred, id) {
  const out = [];
  for (let after = 0; ;) {
    const page = await getJSON(cred, `/a1/sessions/${encodeURIComponent(id)}/messages?limit=1000&after=${after}`);
    out.push(...page.data);
    if (!page.has_more || !page.data.length) return out;
    after = page.data.at(-1).seq;
  }
}

// agentTurn sends one /a1 turn ({content, stream}) and returns the answer: the
// message, the steps and how often the session compacted first. A stream calls
// onStart with its agent.turn.start event, onStep with each agent.step event as
// the tool's result comes in, and onDelta with the answer's fragments.
export async function agentTurn(cred, id, body, { onHeaders = () => {}, onStart = () => {}, onStep = () => {}, onDelta = () => {} } = {}) {
  const resp = await fetch(`/a1/sessions/${encodeURIComponent(id)}/messages`, { method: 'POST', headers: headers(cred, true), body: JSON.stringify(body) });
  onHeaders(served(resp));
  if (!resp.ok) throw await failure(resp);
  if (!body.stream) {
    const t = await resp.json();
    if (t.message.content) onDelta(t.message.content);
    return t;
  }
  let compacted = 0;
  const steps = [];
  const onEvent = (ev) => {
    if (ev.object === 'agent.turn.start') {
      compacted = ev.compacted;
      onStart(ev);
    } else if (ev.object === 'agent.step') {
      steps.push(ev);
      onStep(ev);
    }
  };
  const { message } = await readStream(resp, onDelta, onEvent);
  return { message, steps, compacted };
}

// readStream parses the SSE body event by event. Tool calls arrive in fragments
// and are joined by their index; an error event (a failure after the first byte)
// becomes an ApiError. Events of the gateway's own (an object other than
// chat.completion.chunk, such as /a1's agent.step) go to onEvent.
async function readStream(resp, onDelta, onEvent = () => {}) {
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  const requestId = resp.headers.get('SPASS-Request-Id');
  const message = { role: 'assistant', content: '' };
  const calls = [];
  let finishReason = null;
  let chunks = 0;
  let buf = '';
  const handle = (raw) => {
    const data = raw.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
    if (!data || data === '[DONE]') return;
    const ev = JSON.parse(data);
    if (ev.error) throw new ApiError(502, ev, requestId);
    if (ev.object && ev.object !== 'chat.completion.chunk') return onEvent(ev);
    chunks++;
    for (const choice of ev.choices ?? []) {
      const d = choice.delta ?? {};
      if (d.content) {
        message.content += d.content;
        onDelta(d.content);
      }
      for (const tc of d.tool_calls ?? []) {
        const c = (calls[tc.index ?? 0] ??= { id: '', type: 'function', function: { name: '', arguments: '' } });
        if (tc.id) c.id = tc.id;
        if (tc.function?.name) c.function.name += tc.function.name;
        if (tc.function?.arguments) {
          const a = tc.function.arguments;
          c.function.arguments += typeof a === 'string' ? a : JSON.stringify(a);
        }
      }
      if (choice.finish_reason) finishReason = choice.finish_reason;
    }
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value.replace(/\r\n/g, '\n');
    let end;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      handle(buf.slice(0, end));
      buf = buf.slice(end + 2);
    }
  }
  if (buf.trim()) handle(buf);
  const toolCalls = calls.filter(Boolean);
  if (toolCalls.length) {
    message.tool_calls = toolCalls;
    if (!message.content) message.content = null;
  }
  return { message, finishReason, chunks };
}
