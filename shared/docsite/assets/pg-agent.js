// The playground's agent mode (/a1): the agents the tenant sees, the user's sessions
// with the one picked, and turns whose tool steps show as they run. The agent names
// the model and the tools, and the gateway keeps the session, so a turn sends only
// the new message.
import { listAgents, listSessions, createSession, sessionMessages, agentTurn } from './pg-api.js';
import { el, userMessage, assistantMessage } from './pg-ui.js';

const pretty = (v) => JSON.stringify(v, null, 2);

// stepCard renders one tool call of a turn: the tool, its arguments, its result.
export function stepCard(step) {
  const failed = Boolean(step.result?.error);
  return el('div', { class: 'msg step' + (failed ? ' step-failed' : ''), 'data-tool': step.tool, 'data-round': String(step.round) },
    el('div', { class: 'role' }, `step · round ${step.round} · ${step.tool}`),
    el('pre', { class: 'json step-args' }, pretty(step.arguments)),
    el('div', { class: 'step-arrow' }, failed ? 'failed:' : 'result:'),
    el('pre', { class: 'json step-result' }, pretty(step.result)));
}

function compactedNote(n) {
  return el('div', { class: 'msg note' }, `The session was compacted ${n === 1 ? 'once' : n + ' times'} before this turn: its older turns are now a summary and facts.`);
}

// AgentMode holds the agent picked and the open session (null: the next turn opens
// one). els: the agent select, its info box and the sessions list. hooks: cred()
// the page's credentials, busy() while a turn runs, show(node) and clear() on the
// chat, onAgent(agent) when the pick changes, onSession() when the open session
// changes, fail(err) for an error outside a turn.
export class AgentMode {
  constructor(els, hooks) {
    this.els = els;
    this.hooks = hooks;
    this.agents = [];
    this.agent = null;
    this.sessions = [];
    this.session = null;
    els.select.addEventListener('change', () => this.choose(els.select.value).catch(hooks.fail));
  }

  // load reads the agents and keeps the pick (the first agent at first).
  async load() {
    this.agents = await listAgents(this.hooks.cred());
    const keep = this.agents.find((a) => a.name === this.agent?.name) ?? this.agents[0];
    this.els.select.replaceChildren(...(this.agents.length
      ? this.agents.map((a) => el('option', { value: a.name }, `${a.name} (${a.source})`))
      : [el('option', { value: '' }, 'No agents yet')]));
    this.els.select.disabled = !this.agents.length;
    if (keep) this.els.select.value = keep.name;
    await this.choose(keep?.name ?? '');
  }

  // choose picks an agent: a new session with it comes next.
  async choose(name) {
    if (this.hooks.busy()) {
      this.els.select.value = this.agent?.name ?? '';
      return;
    }
    this.agent = this.agents.find((a) => a.name === name) ?? null;
    this.session = null;
    this.hooks.clear();
    this.renderInfo();
    this.hooks.onAgent(this.agent);
    await this.refresh();
  }

  renderInfo() {
    const a = this.agent;
    if (!a) {
      this.els.info.replaceChildren(el('p', { class: 'hint' }, 'No agent for this tenant: an admin defines one with POST /a1/agents, or the operator in the agents directory.'));
      return;
    }
    const chips = [el('span', { class: 'chip cap' }, a.model), ...a.tools.map((t) => el('span', { class: 'chip' }, t))];
    this.els.info.replaceChildren(
      a.description ? el('p', { class: 'agent-desc' }, a.description) : '',
      el('span', { class: 'chips' }, chips),
      a.tools.length ? '' : el('p', { class: 'hint' }, 'No tools.'));
  }

  // refresh reloads the user's sessions with the agent.
  async refresh() {
    this.sessions = this.agent ? await listSessions(this.hooks.cred(), this.agent.name) : [];
    this.render();
  }

  render() {
    this.els.list.replaceChildren(...(this.sessions.length ? this.sessions.map((s) => el('li', {}, el('button', {
      type: 'button', class: 'conv-item session-item', 'data-session': s.id, 'aria-current': s.id === this.session ? 'true' : false,
      title: 'Open this session', onclick: () => this.open(s.id).catch(this.hooks.fail),
    }, el('span', { class: 'conv-name' }, new Date(s.updated_at * 1000).toLocaleString()),
    el('span', { class: 'conv-meta' }, `${s.messages} messages · segment ${s.segment}`))))
      : [el('li', { class: 'hint' }, 'No sessions yet: send a message to start one.')]));
  }

  newSession() {
    this.session = null;
    this.hooks.clear();
    this.render();
    this.hooks.onSession();
  }

  // open shows a session, each answer after the steps that led to it, and makes
  // the next turn continue it. A failed turn's messages are dimmed: never replayed.
  async open(id) {
    if (this.hooks.busy()) return;
    const messages = await sessionMessages(this.hooks.cred(), id);
    this.hooks.clear();
    this.session = id;
    this.render();
    this.hooks.onSession();
    for (const m of messages) {
      const msg = m.message;
      let node;
      if (msg.role === 'user') {
        node = userMessage(msg.content);
      } else if (msg.role === 'assistant') {
        for (const s of m.steps ?? []) this.hooks.show(stepCard(s));
        const b = assistantMessage();
        if (msg.content) b.append(msg.content);
        b.finish(msg, false);
        node = b.node;
      } else {
        continue;
      }
      node.dataset.seq = String(m.seq);
      if (m.status !== 'ok') {
        node.classList.add('failed');
        node.title = m.status === 'failed' ? 'A failed turn: never sent to the model again' : 'Its turn is still running';
      }
      this.hooks.show(node);
    }
  }

  // turn sends content as the next turn of the open session (opening one first);
  // steps and a compaction note go in before the answer's bubble.
  async turn(content, stream, bubble, onHeaders) {
    const cred = this.hooks.cred();
    if (!this.session) {
      this.session = (await createSession(cred, this.agent.name)).id;
      this.hooks.onSession();
    }
    const before = (node) => bubble.node.before(node);
    const out = await agentTurn(cred, this.session, { content, stream }, {
      onHeaders,
      onStart: (ev) => { if (ev.compacted) before(compactedNote(ev.compacted)); },
      onStep: (s) => before(stepCard(s)),
      onDelta: (d) => bubble.append(d),
    });
    if (!stream) {
      if (out.compacted) before(compactedNote(out.compacted));
      out.steps.forEach((s) => before(stepCard(s)));
    }
    return out.message;
  }
}
