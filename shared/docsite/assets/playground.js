// The playground page: wires the connection form, the model cards, the chat with
// streaming, image attachments, the tool builder and JSON mode, in three modes: chat
// (/v1, the page keeps the transcript), conversation (/c1, the gateway keeps it) and
// agent (/a1, an agent brings its model and tools, and its steps show as they run).
// No build step: the browser loads these ES modules from /assets as they are.
import { credentials, modelInfo, chat, converse, getConversation } from './pg-api.js';
import { el, modelCard, userMessage, assistantMessage, toolCallCard, toolResultMessage, servedLine } from './pg-ui.js';
import { parseTool, ToolBuilder, toolChoice, renderChoices } from './pg-tools.js';
import { ConversationList, renderHistory } from './pg-conv.js';
import { AgentMode } from './pg-agent.js';

const $ = (id) => document.getElementById(id);
const MAX_IMAGE = 20 << 20; // base64 grows it by a third; the gateway takes 32 MiB bodies

// messages is the transcript shown (what chat mode sends); in conversation mode conv
// is the open conversation's id (null: the next turn starts one) and toolResults the
// answers to the last reply's tool calls, sent together as the next turn.
const state = { models: [], model: null, messages: [], image: null, busy: false, mode: 'chat', conv: null, toolResults: [] };
const tools = new ToolBuilder($('pg-tool-list'), (list) => renderChoices($('pg-tool-choice'), list));
const conversations = new ConversationList($('pg-conv-list'), $('pg-conv-more'), (id) => openConversation(id));
const agents = new AgentMode({ select: $('pg-agent'), info: $('pg-agent-info'), list: $('pg-session-list') }, {
  cred: () => cred(),
  busy: () => state.busy,
  show: (node) => show(node),
  clear: () => clearChat(),
  fail: (err) => status(`${err.code}: ${err.message}`, true),
  onAgent: (a) => {
    const m = a && state.models.find((x) => x.id === a.model);
    if (m) pick(m);
    $('pg-model-name').textContent = a ? a.name : 'no agent';
    agentTitle();
  },
  onSession: () => agentTitle(),
});

function cred() {
  return { token: $('pg-token').value.trim(), user: $('pg-user').value.trim(), remember: $('pg-remember').checked };
}

function status(text, error = false) {
  $('pg-status').textContent = text;
  $('pg-status').classList.toggle('error-text', error);
}

async function loadModels() {
  const c = cred();
  credentials.save(c);
  if (!c.token) return status('Enter your gateway token first.', true);
  status('Loading models…');
  try {
    state.models = await modelInfo(c);
  } catch (err) {
    return status(`${err.code}: ${err.message}`, true);
  }
  status(`${state.models.length} models.`);
  const first = state.models.find((m) => m.id === state.model?.id) ?? state.models.find((m) => m.type === 'chat');
  pick(first ?? null);
  if (state.mode === 'conv') await refreshConversations();
  if (state.mode === 'agent') await loadAgents();
}

function renderModels() {
  $('pg-models').replaceChildren(...state.models.map((m) => modelCard(m, m === state.model, pick)));
}

function pick(m) {
  state.model = m;
  $('pg-model-name').textContent = m ? m.id : 'no model';
  $('pg-json').disabled = state.mode === 'agent' || !m?.json_mode;
  if ($('pg-json').disabled) $('pg-json').checked = false;
  if (!acceptsImages()) setImage(null);
  const other = state.mode === 'agent' ? 'an agent on a vision model' : 'a vision model';
  $('pg-drop-text').textContent = acceptsImages() ? 'Drop an image here, or' : `${m ? m.id : 'This model'} does not read images; pick ${other} to attach one, or`;
  renderModels();
}

const acceptsImages = () => Boolean(state.model?.modalities.input.includes('image'));

function setImage(img) {
  state.image = img;
  $('pg-attachment').replaceChildren(...(img ? [
    el('img', { class: 'thumb', src: img.url, alt: img.name }), el('span', {}, img.name),
    el('button', { type: 'button', class: 'link', 'aria-label': 'Remove image', onclick: () => setImage(null) }, '×'),
  ] : []));
}

function attach(file) {
  if (!file) return;
  if (!acceptsImages()) return status('Pick a model with image input (a vision model) to attach images.', true);
  if (!file.type.startsWith('image/')) return status(`${file.name} is not an image.`, true);
  if (file.size > MAX_IMAGE) return status(`${file.name} is larger than 20 MiB.`, true);
  const reader = new FileReader();
  reader.onload = () => setImage({ name: file.name, url: reader.result });
  reader.readAsDataURL(file);
}

function show(node) {
  $('pg-messages').append(node);
  node.scrollIntoView({ block: 'end' });
}

async function send(ev) {
  ev?.preventDefault();
  if (state.busy) return;
  if (state.mode === 'agent' && !agents.agent) return status('Load the agents and pick one first.', true);
  if (!state.model) return status('Load the models and pick one first.', true);
  const text = $('pg-input').value.trim();
  if (!text && !state.image) return;
  const content = state.image
    ? [{ type: 'text', text: text || 'What is in this image?' }, { type: 'image_url', image_url: { url: state.image.url } }]
    : text;
  state.messages.push({ role: 'user', content });
  state.toolResults = [];
  show(userMessage(content));
  $('pg-input').value = '';
  setImage(null);
  await turn({ message: content });
}

// turn asks the model for the next message; a tool call waits for the user's answer.
// Chat mode sends the whole transcript to /v1; conversation mode sends /c1 only what
// is new (fresh: the message or the tool results), the model and the provider.
async function turn(fresh) {
  if (state.mode === 'agent') return agentSend(fresh.message);
  state.busy = true;
  $('pg-send').disabled = true;
  const json = $('pg-json').checked;
  const stream = $('pg-stream').checked;
  const conv = state.mode === 'conv';
  const body = conv
    ? { model: state.model.id, provider: $('pg-provider').value, stream, ...fresh }
    : { model: state.model.id, messages: state.messages, stream };
  if (conv && state.conv) body.conversation_id = state.conv;
  if (tools.tools.length) {
    body.tools = tools.tools;
    const choice = toolChoice($('pg-tool-choice').value);
    if (choice) body.tool_choice = choice;
  }
  if (json) body.response_format = { type: 'json_object' };
  const bubble = assistantMessage();
  show(bubble.node);
  const handlers = {
    onHeaders: (h) => $('pg-meta').replaceChildren(...servedLine(h)),
    onConversation: (id) => { state.conv = id; },
    onDelta: (d) => bubble.append(d),
  };
  try {
    const { message } = await (conv ? converse(cred(), body, handlers) : chat(cred(), body, handlers));
    state.messages.push(message);
    bubble.finish(message, json);
    for (const call of message.tool_calls ?? []) {
      show(toolCallCard(call, (result) => answerTool(call, result)));
    }
  } catch (err) {
    bubble.fail(err);
  } finally {
    state.busy = false;
    $('pg-send').disabled = false;
  }
  if (conv) await refreshConversations();
}

function answerTool(call, result) {
  const msg = { role: 'tool', tool_call_id: call.id, content: result };
  state.messages.push(msg);
  state.toolResults.push(msg);
  show(toolResultMessage(call.function.name, result));
  const open = state.messages.at(-1 - countTrailingTools()).tool_calls ?? [];
  if (countTrailingTools() >= open.length) {
    const results = state.toolResults;
    state.toolResults = [];
    turn({ messages: results });
  }
}

// countTrailingTools counts the tool results after the last assistant message, so
// a reply with several calls continues only once every call is answered.
function countTrailingTools() {
  let n = 0;
  for (let i = state.messages.length - 1; i >= 0 && state.messages[i].role === 'tool'; i--) n++;
  return n;
}

// agentSend runs one agent turn: its steps go in before the answer as they come.
async function agentSend(content) {
  state.busy = true;
  $('pg-send').disabled = true;
  const bubble = assistantMessage();
  show(bubble.node);
  try {
    const message = await agents.turn(content, $('pg-stream').checked, bubble, (h) => $('pg-meta').replaceChildren(...servedLine(h)));
    state.messages.push(message);
    bubble.finish(message, false);
  } catch (err) {
    bubble.fail(err);
  } finally {
    state.busy = false;
    $('pg-send').disabled = false;
  }
  await agents.refresh().catch((err) => status(`${err.code}: ${err.message}`, true));
}

async function loadAgents() {
  try {
    await agents.load();
  } catch (err) {
    status(`${err.code}: ${err.message}`, true);
  }
}

// agentTitle names the agent's model and the open session in the chat's heading.
function agentTitle() {
  const a = agents.agent;
  $('pg-conv-title').textContent = a ? `· ${a.model} · ${agents.session ?? 'new session'}` : '';
}

function clearChat() {
  state.messages = [];
  state.toolResults = [];
  $('pg-messages').replaceChildren();
  $('pg-meta').replaceChildren();
}

// reset empties the page's chat: the next message starts a new chat, conversation
// or agent session.
function reset() {
  clearChat();
  state.conv = null;
  conversations.setActive(null);
  $('pg-conv-title').textContent = '· new conversation';
  if (state.mode === 'agent') agents.newSession();
}

function setMode(mode) {
  if (state.busy || mode === state.mode) return;
  state.mode = mode;
  for (const [m, id] of [['chat', 'pg-mode-chat'], ['conv', 'pg-mode-conv'], ['agent', 'pg-mode-agent']]) {
    $(id).setAttribute('aria-pressed', String(mode === m));
  }
  $('pg-conv-card').hidden = mode !== 'conv';
  $('pg-agent-card').hidden = mode !== 'agent';
  $('pg-models-card').hidden = mode === 'agent';
  $('pg-tools-card').hidden = mode === 'agent';
  $('pg-conv-title').hidden = mode === 'chat';
  reset();
  if (!state.models.length) return;
  if (mode === 'agent') return loadAgents();
  pick(state.model); // the model's name back in the heading, JSON mode as it allows
  if (mode === 'conv') refreshConversations();
}

// refreshConversations reloads the list, the open conversation marked; its title
// (the start of its first message) goes to the chat's heading.
async function refreshConversations() {
  conversations.active = state.conv;
  try {
    await conversations.load(cred());
  } catch (err) {
    return status(`${err.code}: ${err.message}`, true);
  }
  const open = conversations.items.find((c) => c.id === state.conv);
  if (open) $('pg-conv-title').textContent = '· ' + (open.title || '(untitled)');
}

// openConversation shows a kept conversation and makes the next turn continue it,
// with its model and provider.
async function openConversation(id) {
  if (state.busy) return;
  let conv;
  try {
    conv = await getConversation(cred(), id);
  } catch (err) {
    return status(`${err.code}: ${err.message}`, true);
  }
  reset();
  state.conv = id;
  conversations.setActive(id);
  $('pg-conv-title').textContent = '· ' + (conv.title || '(untitled)');
  const { messages, openCalls } = renderHistory(conv.data, show);
  state.messages = messages;
  for (const call of openCalls) show(toolCallCard(call, (result) => answerTool(call, result)));
  $('pg-provider').value = conv.provider || 'auto';
  const m = state.models.find((x) => x.id === conv.model);
  if (m) pick(m);
}

function addTool() {
  try {
    tools.add(parseTool($('pg-tool-name').value, $('pg-tool-desc').value, $('pg-tool-params').value));
    $('pg-tool-error').textContent = '';
  } catch (err) {
    $('pg-tool-error').textContent = err.message;
  }
}

function init() {
  const c = credentials.load();
  $('pg-token').value = c.token;
  $('pg-remember').checked = c.remember;
  $('pg-user').value = c.user;
  $('pg-connect').addEventListener('click', loadModels);
  $('pg-remember').addEventListener('change', () => credentials.save(cred()));
  $('pg-form').addEventListener('submit', send);
  $('pg-input').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) send(e);
  });
  $('pg-clear').addEventListener('click', reset);
  $('pg-mode-chat').addEventListener('click', () => setMode('chat'));
  $('pg-mode-conv').addEventListener('click', () => setMode('conv'));
  $('pg-mode-agent').addEventListener('click', () => setMode('agent'));
  $('pg-session-new').addEventListener('click', () => {
    if (state.busy) return;
    agents.newSession();
    $('pg-input').focus();
  });
  $('pg-conv-new').addEventListener('click', () => {
    if (state.busy) return;
    reset();
    $('pg-input').focus();
  });
  $('pg-tool-add').addEventListener('click', addTool);
  $('pg-file').addEventListener('change', (e) => attach(e.target.files[0]));
  const drop = $('pg-drop');
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    attach(e.dataTransfer.files[0]);
  });
  if (c.token) loadModels();
}

init();
