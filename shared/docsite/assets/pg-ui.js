// The playground's rendering. Everything a model or a user wrote is set as text,
// never as HTML, so a reply cannot inject markup into the page.

// el builds an element: el('p', {class: 'x'}, 'text', child, ...).
export function el(tag, attrs = {}, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
    else n.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined && c !== false) n.append(c instanceof Node ? c : String(c));
  }
  return n;
}

const chip = (text, kind = '') => el('span', { class: 'chip ' + kind }, text);

// modelCard renders one entry of /v1/info; chat models can be picked.
export function modelCard(m, selected, onPick) {
  const chat = m.type === 'chat';
  const caps = [
    ...m.modalities.input.map((x) => chip('in: ' + x, x === 'image' ? 'cap' : '')),
    ...m.modalities.output.map((x) => chip('out: ' + x)),
    m.tools && chip('tools', 'cap'),
    m.json_mode && chip('JSON mode', 'cap'),
    m.embeddings && chip('embeddings', 'cap'),
  ];
  const tiers = m.tiers.map((t) => el('li', { class: 'tier breaker-' + t.breaker },
    `${t.tier} ${t.backend} (${t.kind}${t.cloud ? ', cloud' : ''}) · breaker ${t.breaker.replace('_', '-')}`));
  return el('button', {
    type: 'button', class: 'model-card', 'data-model': m.id, 'aria-pressed': String(selected),
    disabled: !chat, title: chat ? 'Chat with ' + m.id : 'Not a chat model',
    onclick: () => onPick(m),
  },
  el('span', { class: 'model-id' }, m.id),
  el('span', { class: 'model-type' }, m.type + (m.context_window ? ` · ${m.context_window.toLocaleString('en')} tokens` : '')),
  el('span', { class: 'chips' }, caps),
  el('ul', { class: 'tiers' }, tiers));
}

// userMessage renders what the user sent, with a thumbnail for an image part.
export function userMessage(content) {
  const parts = typeof content === 'string' ? [{ type: 'text', text: content }] : content;
  return el('div', { class: 'msg user' }, el('div', { class: 'role' }, 'you'),
    parts.map((p) => p.type === 'image_url'
      ? el('img', { class: 'thumb', src: p.image_url.url, alt: 'attached image' })
      : el('div', { class: 'text' }, p.text)));
}

// assistantMessage returns a bubble whose text grows as deltas arrive. Its
// data-state (waiting, streaming, done, error) and data-chunks let a test see a
// stream arrive without timing anything.
export function assistantMessage() {
  const text = el('div', { class: 'text' });
  const node = el('div', { class: 'msg assistant', 'data-state': 'waiting', 'data-chunks': '0' },
    el('div', { class: 'role' }, 'assistant'), text);
  return {
    node,
    append(delta) {
      text.textContent += delta;
      node.dataset.state = 'streaming';
      node.dataset.chunks = String(Number(node.dataset.chunks) + 1);
    },
    finish(message, json) {
      node.dataset.state = 'done';
      if (json && message.content) {
        try {
          text.replaceChildren(el('pre', { class: 'json' }, JSON.stringify(JSON.parse(message.content), null, 2)));
        } catch { /* not JSON after all: keep the text */ }
      }
      if (message.tool_calls?.length && !message.content) {
        text.textContent = 'Calls ' + message.tool_calls.map((c) => c.function.name).join(', ') + ' — answer below.';
      } else if (!message.content) {
        text.textContent = '(empty answer)';
      }
    },
    fail(err) {
      node.dataset.state = 'error';
      node.classList.add('error');
      text.replaceChildren(el('strong', {}, err.code || 'error'), ': ', err.message,
        err.requestId ? el('span', { class: 'reqid' }, ` (SPASS-Request-Id ${err.requestId})`) : '');
    },
  };
}

// toolCallCard shows one tool call of the model, its id and arguments, and a field
// for its result; onAnswer receives the result text. Without onAnswer the call was
// answered already (a kept conversation): the card only shows it. data-state is
// open or answered.
export function toolCallCard(call, onAnswer) {
  let args = call.function.arguments;
  try { args = JSON.stringify(JSON.parse(args), null, 2); } catch { /* show as sent */ }
  const card = el('div', { class: 'msg tool-call', 'data-tool': call.function.name, 'data-call-id': call.id, 'data-state': onAnswer ? 'open' : 'answered' },
    el('div', { class: 'role' }, 'tool call · ' + call.id),
    el('div', { class: 'text' }, el('code', {}, call.function.name), ' with arguments'),
    el('pre', { class: 'json tool-args' }, args));
  if (!onAnswer) return card;
  const result = el('textarea', { class: 'tool-result', rows: '2', placeholder: 'The function\'s result, e.g. {"temp_c": 21}' });
  const send = el('button', { type: 'button', class: 'primary tool-send' }, 'Send result');
  card.append(result, send);
  send.addEventListener('click', () => {
    send.disabled = true;
    result.readOnly = true;
    card.dataset.state = 'answered';
    onAnswer(result.value || '(no result)');
  });
  return card;
}

// toolResultMessage renders the tool message the user answered with.
export function toolResultMessage(name, content) {
  return el('div', { class: 'msg tool' }, el('div', { class: 'role' }, 'tool result · ' + name), el('div', { class: 'text' }, content));
}

// servedLine renders the SPASS-* headers of the last answer.
export function servedLine(h) {
  return Object.entries(h).map(([k, v]) => el('span', { class: 'hdr' }, el('b', {}, k), ' ', v));
}
