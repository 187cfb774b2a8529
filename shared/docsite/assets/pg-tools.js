// The playground's tool builder: functions the user defines with a JSON Schema,
// sent as the request's tools[].
import { el } from './pg-ui.js';

const NAME = /^[a-zA-Z0-9_-]{1,64}$/;

// parseTool validates the builder's fields and returns an OpenAI tool, or throws
// an Error whose message tells the user what to fix.
export function parseTool(name, description, params) {
  name = name.trim();
  if (!NAME.test(name)) throw new Error('The name must be 1–64 letters, digits, _ or -.');
  let parameters;
  try {
    parameters = JSON.parse(params || '{"type": "object", "properties": {}}');
  } catch (e) {
    throw new Error('The parameters are not valid JSON: ' + e.message);
  }
  if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters) || parameters.type !== 'object') {
    throw new Error('The parameters must be a JSON Schema object with "type": "object".');
  }
  const fn = { name, parameters };
  if (description.trim()) fn.description = description.trim();
  return { type: 'function', function: fn };
}

// CHOICES are tool_choice's fixed values; a defined function adds "fn:<name>".
const CHOICES = ['auto', 'required', 'none'];

// toolChoice turns the select's value into the request's tool_choice, or undefined
// for auto (the API's default, left out of the request).
export function toolChoice(value) {
  if (!value || value === 'auto') return undefined;
  if (value.startsWith('fn:')) return { type: 'function', function: { name: value.slice(3) } };
  return value;
}

// renderChoices fills the tool_choice select: the fixed values and one "call <name>"
// per tool, keeping the selection while it still exists.
export function renderChoices(select, tools) {
  const keep = select.value;
  const fns = tools.map((t) => t.function.name);
  select.replaceChildren(...[...select.options].filter((o) => CHOICES.includes(o.value)),
    ...fns.map((n) => el('option', { value: 'fn:' + n }, 'call ' + n + ': it must call this one')));
  select.value = [...select.options].some((o) => o.value === keep) ? keep : 'auto';
  select.disabled = tools.length === 0;
}

// ToolBuilder keeps the defined tools and renders their list.
export class ToolBuilder {
  constructor(list, onChange) {
    this.tools = [];
    this.list = list;
    this.onChange = onChange;
  }

  add(tool) {
    this.tools = this.tools.filter((t) => t.function.name !== tool.function.name).concat(tool);
    this.render();
  }

  remove(name) {
    this.tools = this.tools.filter((t) => t.function.name !== name);
    this.render();
  }

  render() {
    this.list.replaceChildren(...this.tools.map((t) => el('li', { 'data-tool': t.function.name },
      el('code', {}, t.function.name), t.function.description ? ' — ' + t.function.description : '',
      el('button', { type: 'button', class: 'link', 'aria-label': 'Remove ' + t.function.name, onclick: () => this.remove(t.function.name) }, '×'))));
    this.onChange(this.tools);
  }
}
