// The playground's conversation mode (/c1): the list of the user's conversations and
// the rendering of one opened from it. The gateway keeps the history, so a turn in
// this mode sends only the new message (or tool results), the model and the provider.
import { listConversations } from './pg-api.js';
import { el, userMessage, assistantMessage, toolCallCard, toolResultMessage } from './pg-ui.js';

// ConversationList renders GET /c1/conversations, newest first, a page at a time.
// Each entry is a button with data-conv (its id) and aria-current on the open one.
export class ConversationList {
  constructor(list, more, onOpen) {
    this.list = list;
    this.more = more;
    this.onOpen = onOpen;
    this.items = [];
    this.cursor = '';
    this.active = null;
    more.addEventListener('click', () => this.load(this.cred, false));
  }

  // load reads the first page (reset) or the next one.
  async load(cred, reset = true) {
    this.cred = cred;
    const page = await listConversations(cred, reset ? '' : this.cursor);
    this.items = reset ? page.data : this.items.concat(page.data);
    this.cursor = page.has_more ? page.next_cursor : '';
    this.render();
  }

  setActive(id) {
    this.active = id;
    this.render();
  }

  render() {
    this.list.replaceChildren(...(this.items.length ? this.items.map((c) => this.item(c)) : [el('li', { class: 'hint' }, 'No conversations yet: send a message to start one.')]));
    this.more.hidden = !this.cursor;
  }

  item(c) {
    const meta = [c.model, c.provider, `${c.messages} messages`].filter(Boolean).join(' · ');
    return el('li', {}, el('button', {
      type: 'button', class: 'conv-item', 'data-conv': c.id, 'aria-current': c.id === this.active ? 'true' : false,
      title: 'Open this conversation', onclick: () => this.onOpen(c.id),
    }, el('span', { class: 'conv-name' }, c.title || '(untitled)'), el('span', { class: 'conv-meta' }, meta)));
  }
}

// renderHistory shows a conversation's messages with show(node) and returns what
// the page needs to continue it: the ok messages, and the tool calls of its last
// answer when they are still unanswered. A failed turn's messages are shown dimmed:
// the gateway never sends them to a model again.
export function renderHistory(messages, show) {
  const names = {}; // tool_call_id -> function name, for the tool results
  const answered = new Set(messages.filter((m) => m.message.role === 'tool').map((m) => m.message.tool_call_id));
  const kept = [];
  for (const m of messages) {
    const msg = m.message;
    let node;
    if (msg.role === 'user') {
      node = userMessage(msg.content);
    } else if (msg.role === 'assistant') {
      const b = assistantMessage();
      if (msg.content) b.append(msg.content);
      b.finish(msg, false);
      for (const c of msg.tool_calls ?? []) names[c.id] = c.function.name;
      node = b.node;
    } else if (msg.role === 'tool') {
      node = toolResultMessage(names[msg.tool_call_id] ?? msg.tool_call_id, typeof msg.content === 'string' ? msg.content : JSON.stringify(msg.content));
    } else {
      continue;
    }
    node.dataset.seq = String(m.seq);
    if (m.status !== 'ok') {
      node.classList.add('failed');
      node.title = m.status === 'failed' ? 'A failed turn: never sent to a model again' : 'Its turn is still running';
    } else {
      kept.push(msg);
    }
    show(node);
    // Every answered call has its card; the page adds the open ones, answerable.
    for (const c of msg.role === 'assistant' ? msg.tool_calls ?? [] : []) {
      if (answered.has(c.id)) show(toolCallCard(c));
    }
  }
  const last = kept.at(-1);
  return { messages: kept, openCalls: last?.role === 'assistant' ? last.tool_calls ?? [] : [] };
}
