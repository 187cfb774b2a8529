// The playground page: wires the connection form, the model cards, the chat with
// streaming, image attachments, the tool builder and JSON mode. No build step: the
// browser loads these ES modules from /assets as they are.
import { credentials, modelInfo, chat } from './pg-api.js';
import { el, modelCard, userMessage, assistantMessage, toolCallCard, toolResultMessage, servedLine } from './pg-ui.js';
import { parseTool, ToolBuilder } from './pg-tools.js';

const $ = (id) => document.getElementById(id);
const MAX_IMAGE = 20 << 20; // base64 grows it by a third; the gateway takes 32 MiB bodies

const state = { models: [], model: null, messages: [], image: null, busy: false };
const tools = new ToolBuilder($('pg-tool-list'), () => {});

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
}

function renderModels() {
  $('pg-models').replaceChildren(...state.models.map((m) => modelCard(m, m === state.model, pick)));
}

function pick(m) {
  state.model = m;
  $('pg-model-name').textContent = m ? m.id : 'no model';
  $('pg-json').disabled = !m?.json_mode;
  if (!m?.json_mode) $('pg-json').checked = false;
  if (!acceptsImages()) setImage(null);
  $('pg-drop-text').textContent = acceptsImages() ? 'Drop an image here, or' : `${m ? m.id : 'This model'} does not read images; pick a vision model to attach one, or`;
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
  if (!state.model) return status('Load the models and pick one first.', true);
  const text = $('pg-input').value.trim();
  if (!text && !state.image) return;
  const content = state.image
    ? [{ type: 'text', text: text || 'What is in this image?' }, { type: 'image_url', image_url: { url: state.image.url } }]
    : text;
  state.messages.push({ role: 'user', content });
  show(userMessage(content));
  $('pg-input').value = '';
  setImage(null);
  await turn();
}

// turn asks the model for the next message; a tool call waits for the user's answer.
async function turn() {
  state.busy = true;
  $('pg-send').disabled = true;
  const json = $('pg-json').checked;
  const body = { model: state.model.id, messages: state.messages, stream: $('pg-stream').checked };
  if (tools.tools.length) body.tools = tools.tools;
  if (json) body.response_format = { type: 'json_object' };
  const bubble = assistantMessage();
  show(bubble.node);
  try {
    const { message } = await chat(cred(), body, {
      onHeaders: (h) => $('pg-meta').replaceChildren(...servedLine(h)),
      onDelta: (d) => bubble.append(d),
    });
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
}

function answerTool(call, result) {
  state.messages.push({ role: 'tool', tool_call_id: call.id, content: result });
  show(toolResultMessage(call.function.name, result));
  const open = state.messages.at(-1 - countTrailingTools()).tool_calls ?? [];
  if (countTrailingTools() >= open.length) turn();
}

// countTrailingTools counts the tool results after the last assistant message, so
// a reply with several calls continues only once every call is answered.
function countTrailingTools() {
  let n = 0;
  for (let i = state.messages.length - 1; i >= 0 && state.messages[i].role === 'tool'; i--) n++;
  return n;
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
  $('pg-clear').addEventListener('click', () => {
    state.messages = [];
    $('pg-messages').replaceChildren();
    $('pg-meta').replaceChildren();
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
