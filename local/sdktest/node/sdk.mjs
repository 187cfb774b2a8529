// Drives the official `openai` npm package through a running SPASS gateway, the
// way a tenant would use it: unchanged, with only baseURL, apiKey and the
// SPASS-User-Id default header. TestNodeSDK (local/sdktest/node_test.go) starts
// the gateway and runs this script; by hand:
//
//   SPASS_BASE_URL=http://127.0.0.1:8080/v1 SPASS_TOKEN=... \
//   SPASS_MODEL_429=flaky SPASS_MODEL_5XX=broken SPASS_MODEL_HALF=half-written \
//   SPASS_STYLE_MODELS=style-openai,style-hermes node sdk.mjs
//
// SPASS_STYLE_MODELS lists models whose backend writes tool calls in one of the
// styles of local servers (no index, text forms, ...); SPASS_MODEL_HALF is one
// whose backend streams a half-written event.
//
// It prints "ok <check>" per passing check, the failure of any other, and
// ends with "<n> passed, <m> failed"; the exit status is 1 if anything failed.
import assert from 'node:assert/strict';
import OpenAI from 'openai';

function env(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`missing environment variable ${name}`);
    process.exit(2);
  }
  return v;
}

const baseURL = env('SPASS_BASE_URL');
const apiKey = env('SPASS_TOKEN');
const model429 = env('SPASS_MODEL_429');
const model5xx = env('SPASS_MODEL_5XX');
const modelHalf = env('SPASS_MODEL_HALF');
const styleModels = env('SPASS_STYLE_MODELS').split(',').filter(Boolean);

const clientOptions = { baseURL, defaultHeaders: { 'SPASS-User-Id': 'alice' }, maxRetries: 0, timeout: 30_000 };
const client = new OpenAI({ ...clientOptions, apiKey });

const checks = [];
const check = (name, fn) => checks.push({ name, fn });

const prompt = 'Say hello to the SDK';
const wantContent = `Hello! You said: ${prompt}`;
const user = (content) => [{ role: 'user', content }];

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather in a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' } },
      required: ['city'],
      additionalProperties: false,
    },
  },
};
const weatherPrompt = 'What is the weather in Rome? Use get_weather {"city":"Rome"}';

// A 1x1 PNG.
const tinyPNG =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

function assertWeatherCall(call) {
  assert.ok(call.id, 'tool call has an id');
  assert.equal(call.type, 'function');
  assert.equal(call.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Rome' });
}

// Reads a chat stream, returning its chunks.
async function collect(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

check('models', async () => {
  const ids = [];
  for await (const m of client.models.list()) {
    assert.equal(m.object, 'model');
    ids.push(m.id);
  }
  for (const want of ['sim-chat', 'sim-vision', 'sim-embed', model429, model5xx]) {
    assert.ok(ids.includes(want), `models ${ids} lack ${want}`);
  }
});

let whole; // the non-streamed answer to prompt, the reference for streams

check('chat', async () => {
  const { data, response } = await client.chat.completions
    .create({ model: 'sim-chat', messages: user(prompt) })
    .withResponse();
  whole = data;
  assert.equal(data.choices.length, 1);
  assert.equal(data.choices[0].message.content, wantContent);
  assert.equal(data.choices[0].finish_reason, 'stop');
  const u = data.usage;
  assert.ok(u.prompt_tokens > 0 && u.completion_tokens > 0, `usage ${JSON.stringify(u)}`);
  assert.equal(u.total_tokens, u.prompt_tokens + u.completion_tokens);
  // The SPASS response headers, read through the SDK's raw response.
  assert.equal(response.headers.get('spass-backend'), 'sim');
  assert.equal(response.headers.get('spass-tier'), 'T1');
  assert.equal(response.headers.get('spass-fallback-count'), '0');
  assert.match(response.headers.get('spass-request-id') ?? '', /^req_/);
});

check('stream with usage', async () => {
  assert.ok(whole, 'needs the chat answer');
  const { data: stream, response } = await client.chat.completions
    .create({ model: 'sim-chat', messages: user(prompt), stream: true, stream_options: { include_usage: true } })
    .withResponse();
  assert.equal(response.headers.get('spass-backend'), 'sim');
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  const chunks = await collect(stream);
  assert.ok(chunks.length >= 3, `${chunks.length} chunks, want a real stream`);
  const content = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
  assert.equal(content, whole.choices[0].message.content);
  assert.equal(chunks.findLast((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason, 'stop');
  const withUsage = chunks.filter((c) => c.usage?.total_tokens > 0);
  assert.equal(withUsage.length, 1, 'exactly one chunk carries usage');
  assert.deepEqual(withUsage[0].choices, [], 'the usage chunk has no choices');
  assert.equal(withUsage[0].usage.total_tokens, whole.usage.total_tokens);
  assert.equal(withUsage[0].usage.completion_tokens, whole.usage.completion_tokens);
});

check('stream without usage', async () => {
  const chunks = await collect(
    await client.chat.completions.create({ model: 'sim-chat', messages: user(prompt), stream: true }),
  );
  assert.ok(chunks.length >= 2, `${chunks.length} chunks`);
  for (const c of chunks) {
    assert.ok(!(c.usage?.total_tokens > 0), `chunk carries usage unasked: ${JSON.stringify(c)}`);
    assert.ok(c.choices.length > 0, `chunk without choices (a stray usage chunk?): ${JSON.stringify(c)}`);
  }
  assert.equal(chunks.map((c) => c.choices[0].delta?.content ?? '').join(''), wantContent);
});

check('tools', async () => {
  const messages = user(weatherPrompt);
  const comp = await client.chat.completions.create({ model: 'sim-chat', messages, tools: [weatherTool] });
  assert.equal(comp.choices[0].finish_reason, 'tool_calls');
  const msg = comp.choices[0].message;
  assert.equal(msg.tool_calls?.length, 1, `tool calls ${JSON.stringify(msg.tool_calls)}`);
  assertWeatherCall(msg.tool_calls[0]);

  // Send the result back; the model reports it.
  messages.push(msg, { role: 'tool', tool_call_id: msg.tool_calls[0].id, content: '22C and sunny' });
  const final = await client.chat.completions.create({ model: 'sim-chat', messages, tools: [weatherTool] });
  assert.equal(final.choices[0].message.content, 'The result is: 22C and sunny');
  assert.equal(final.choices[0].finish_reason, 'stop');
});

check('tools streamed', async () => {
  const messages = user(weatherPrompt);
  // The SDK's own stream helper accumulates the tool-call deltas.
  const runner = client.chat.completions.stream({ model: 'sim-chat', messages, tools: [weatherTool] });
  const finished = [];
  runner.on('tool_calls.function.arguments.done', (e) => finished.push(e));
  const comp = await runner.finalChatCompletion();
  assert.equal(comp.choices[0].finish_reason, 'tool_calls');
  const msg = comp.choices[0].message;
  assert.equal(msg.tool_calls?.length, 1, `tool calls ${JSON.stringify(msg.tool_calls)}`);
  assertWeatherCall(msg.tool_calls[0]);
  assert.equal(finished.length, 1, 'one arguments.done event');
  assert.equal(finished[0].name, 'get_weather');

  // The result goes back in a streamed request too.
  messages.push(
    { role: 'assistant', content: null, tool_calls: msg.tool_calls },
    { role: 'tool', tool_call_id: msg.tool_calls[0].id, content: '22C and sunny' },
  );
  const final = await client.chat.completions
    .stream({ model: 'sim-chat', messages, tools: [weatherTool] })
    .finalChatCompletion();
  assert.equal(final.choices[0].message.content, 'The result is: 22C and sunny');
});

check('json mode', async () => {
  const comp = await client.chat.completions.create({
    model: 'sim-chat',
    messages: user('Reply in JSON to "hi"'),
    response_format: { type: 'json_object' },
  });
  const content = comp.choices[0].message.content;
  let obj;
  assert.doesNotThrow(() => (obj = JSON.parse(content)), `content ${content} is not JSON`);
  assert.ok(obj && typeof obj === 'object' && !Array.isArray(obj) && Object.keys(obj).length > 0, `content ${content}`);
});

check('vision', async () => {
  const comp = await client.chat.completions.create({
    model: 'sim-vision',
    messages: user([
      { type: 'text', text: 'What is in this picture?' },
      { type: 'image_url', image_url: { url: tinyPNG, detail: 'low' } },
    ]),
  });
  const content = comp.choices[0].message.content;
  assert.ok(content.includes('I see an image.'), `content ${content}`);
  assert.ok(content.includes('What is in this picture?'), `content ${content}`);
});

check('embeddings', async () => {
  const resp = await client.embeddings.create({ model: 'sim-embed', input: ['first text', 'second text'] });
  assert.equal(resp.data.length, 2);
  resp.data.forEach((d, i) => {
    assert.equal(d.index, i);
    assert.ok(Array.isArray(d.embedding) && d.embedding.length > 0, `embedding ${i}: ${d.embedding}`);
  });
  assert.equal(resp.data[0].embedding.length, resp.data[1].embedding.length);
  assert.notDeepEqual(resp.data[0].embedding, resp.data[1].embedding);
  assert.ok(resp.usage.prompt_tokens > 0, `usage ${JSON.stringify(resp.usage)}`);
});

const timeTool = {
  type: 'function',
  function: { name: 'get_time', description: 'The time now', parameters: { type: 'object', properties: {} } },
};

// The two calls the simulator makes for 'Use get_weather and get_time', as the
// SDK's stream helper assembled them.
function assertTwoCalls(comp) {
  assert.equal(comp.choices[0].finish_reason, 'tool_calls');
  const calls = comp.choices[0].message.tool_calls;
  assert.equal(calls?.length, 2, `tool calls ${JSON.stringify(calls)}`);
  ['get_weather', 'get_time'].forEach((name, i) => {
    const call = calls[i];
    assert.ok(call.id, `call ${i} has an id`);
    assert.equal(call.type, 'function');
    assert.equal(call.function.name, name);
    assert.equal(typeof call.function.arguments, 'string');
    const args = JSON.parse(call.function.arguments);
    assert.ok(args && typeof args === 'object' && !Array.isArray(args), `arguments ${call.function.arguments}`);
  });
  assert.notEqual(calls[0].id, calls[1].id);
  assert.ok('city' in JSON.parse(calls[0].function.arguments));
}

// Every tool style of local backends reads the same through the SDK's stream
// helper: with stack tools off (the plain relay) and on (the tool loop), and the
// stack-tool loop runs a stack tool the backend called in its style.
for (const model of styleModels) {
  for (const stack of ['none', null]) {
    check(`tool style ${model} stream()${stack ? ' SPASS-Tools: none' : ''}`, async () => {
      const runner = client.chat.completions.stream(
        { model, messages: user('Use get_weather and get_time'), tools: [weatherTool, timeTool] },
        stack ? { headers: { 'SPASS-Tools': stack } } : undefined,
      );
      const done = [];
      runner.on('tool_calls.function.arguments.done', (e) => done.push(e.name));
      const comp = await runner.finalChatCompletion();
      assertTwoCalls(comp);
      assert.deepEqual(done, ['get_weather', 'get_time']);
    });
  }
  check(`tool style ${model} stack tool`, async () => {
    const comp = await client.chat.completions
      .stream({ model, messages: user('What is 6*7? Use calculator {"expression":"6*7"}') })
      .finalChatCompletion();
    const msg = comp.choices[0].message;
    assert.ok(msg.content?.includes('"result":42'), `answer ${msg.content}`);
    assert.equal(msg.tool_calls?.length ?? 0, 0);
  });
}

// A backend stream with a half-written event: the SDK gets a clean APIError with
// the catalog code, after the text before it, never a JSON parse exception.
for (const stack of ['none', null]) {
  const headers = stack ? { headers: { 'SPASS-Tools': stack } } : undefined;
  const params = { model: modelHalf, messages: user('one two three four five six seven') };
  check(`half-written event stream()${stack ? ' SPASS-Tools: none' : ''}`, async () => {
    let err;
    const runner = client.chat.completions.stream(params, headers);
    let text = '';
    runner.on('content', (delta) => (text += delta));
    try {
      await runner.finalChatCompletion();
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof OpenAI.APIError, `got ${err?.constructor?.name}: ${err?.message}`);
    assert.equal(err.code, 'stream_invalid_event');
    assert.equal(err.type, 'api_error');
    assert.equal(text, 'Hello! You said: ');
  });
  check(`half-written event for await${stack ? ' SPASS-Tools: none' : ''}`, async () => {
    let err;
    const seen = [];
    try {
      for await (const chunk of await client.chat.completions.create({ ...params, stream: true }, headers)) {
        seen.push(chunk.choices[0]?.delta?.content ?? '');
      }
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof OpenAI.APIError, `got ${err?.constructor?.name}: ${err?.message}`);
    assert.equal(err.code, 'stream_invalid_event');
    assert.equal(seen.join(''), 'Hello! You said: ');
  });
}

// Each error must surface as the SDK's own class with the catalog fields.
function checkError(name, call, { cls, status, type, code }) {
  check(name, async () => {
    let err;
    try {
      await call();
    } catch (e) {
      err = e;
    }
    assert.ok(err, 'the call did not fail');
    assert.ok(err instanceof cls, `got ${err?.constructor?.name}: ${err?.message}, want ${cls.name}`);
    assert.ok(err instanceof OpenAI.APIError);
    assert.equal(err.status, status);
    assert.equal(err.type, type);
    assert.equal(err.code, code);
    assert.ok(err.message.length > `${status} `.length, `message ${err.message}`);
    assert.match(err.headers.get('spass-request-id') ?? '', /^req_/);
    if (status === 429) assert.match(err.headers.get('retry-after') ?? '', /^\d+$/);
    // The faulty models have one backend, which failed.
    if (status === 429 || status >= 500) assert.equal(err.headers.get('spass-fallback-count'), '1');
  });
}

const hello = (model) => ({ model, messages: user('hi') });
const badKey = new OpenAI({ ...clientOptions, apiKey: 'sk-not-a-token' });
const noUser = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 30_000 });

// The SDK passes unknown body params through, so user_id reaches the gateway.
checkError('error 400 user_id in body', () => client.chat.completions.create({ ...hello('sim-chat'), user_id: 'bob' }), {
  cls: OpenAI.BadRequestError, status: 400, type: 'invalid_request_error', code: 'user_id_not_allowed',
});
checkError('error 400 missing user header', () => noUser.chat.completions.create(hello('sim-chat')), {
  cls: OpenAI.BadRequestError, status: 400, type: 'invalid_request_error', code: 'missing_user_header',
});
checkError('error 401 bad key', () => badKey.chat.completions.create(hello('sim-chat')), {
  cls: OpenAI.AuthenticationError, status: 401, type: 'authentication_error', code: 'invalid_api_key',
});
checkError('error 401 bad key on models', () => badKey.models.list(), {
  cls: OpenAI.AuthenticationError, status: 401, type: 'authentication_error', code: 'invalid_api_key',
});
checkError('error 404 unknown model', () => client.chat.completions.create(hello('no-such-model')), {
  cls: OpenAI.NotFoundError, status: 404, type: 'invalid_request_error', code: 'model_not_found',
});
checkError('error 404 unknown embedding model', () => client.embeddings.create({ model: 'no-such-model', input: 'x' }), {
  cls: OpenAI.NotFoundError, status: 404, type: 'invalid_request_error', code: 'model_not_found',
});
checkError('error 429 every backend rate limited', () => client.chat.completions.create(hello(model429)), {
  cls: OpenAI.RateLimitError, status: 429, type: 'rate_limit_error', code: 'upstream_rate_limited',
});
checkError('error 429 streamed', async () => collect(await client.chat.completions.create({ ...hello(model429), stream: true })), {
  cls: OpenAI.RateLimitError, status: 429, type: 'rate_limit_error', code: 'upstream_rate_limited',
});
checkError('error 5xx every backend failing', () => client.chat.completions.create(hello(model5xx)), {
  cls: OpenAI.InternalServerError, status: 502, type: 'api_error', code: 'upstream_error',
});

let passed = 0;
let failed = 0;
for (const { name, fn } of checks) {
  try {
    await fn();
    passed++;
    console.log(`ok ${name}`);
  } catch (err) {
    failed++;
    console.log(`FAIL ${name}`);
    console.log(String(err?.stack ?? err).replace(/^/gm, '    '));
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
