// Drives the Responses API of the official `openai` npm package through a
// running SPASS gateway: plain, streamed, a function tool's round trip and
// previous_response_id against a Chat-Completions-only backend (SPASS_MODEL_CHAT),
// the same against a backend that serves the API natively (SPASS_MODEL_NATIVE),
// and another user's response read as 404. TestNodeSDKResponses
// (local/sdktest/responses_node_test.go) starts the gateway and runs it.
//
// It prints "ok <check>" per passing check, the failure of any other, and ends
// with "<n> passed, <m> failed"; the exit status is 1 if anything failed.
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const env = (name) => {
  const v = process.env[name];
  if (!v) {
    console.error(`missing environment variable ${name}`);
    process.exit(2);
  }
  return v;
};
const baseURL = env('SPASS_BASE_URL');
const apiKey = env('SPASS_TOKEN');
const models = [env('SPASS_MODEL_CHAT'), env('SPASS_MODEL_NATIVE')];

const options = { baseURL, apiKey, maxRetries: 0, timeout: 30_000 };
const client = new OpenAI({ ...options, defaultHeaders: { 'SPASS-User-Id': 'alice', 'SPASS-Tools': 'none' } });
const bob = new OpenAI({ ...options, defaultHeaders: { 'SPASS-User-Id': 'bob' } });

const weather = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  strict: false,
};

const checks = [];
const check = (name, fn) => checks.push({ name, fn });

for (const model of models) {
  check(`${model}: create, then stream with previous_response_id`, async () => {
    const r = await client.responses.create({ model, input: 'Hello there', instructions: 'Be brief.' });
    assert.equal(r.object, 'response');
    assert.equal(r.status, 'completed');
    assert.equal(r.output_text, 'Hello! You said: Hello there');
    assert.ok(r.usage.input_tokens > 0 && r.usage.total_tokens === r.usage.input_tokens + r.usage.output_tokens);

    const stream = await client.responses.create({ model, input: 'Stream this', previous_response_id: r.id, stream: true });
    const types = [];
    let text = '';
    let done;
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === 'response.output_text.delta') text += ev.delta;
      if (ev.type === 'response.completed') done = ev.response;
    }
    assert.equal(text, 'Hello! You said: Stream this');
    assert.deepEqual(types.slice(0, 2), ['response.created', 'response.in_progress']);
    assert.equal(types.at(-1), 'response.completed');
    assert.equal(done.previous_response_id, r.id);
    const got = await client.responses.retrieve(done.id);
    assert.equal(got.output_text, text);
  });
}

check('function tool round trip with function_call_output', async () => {
  const model = models[0];
  const r = await client.responses.create({ model, input: 'What is the weather in Rome? Use get_weather {"city":"Rome"}', tools: [weather] });
  const call = r.output.find((it) => it.type === 'function_call');
  assert.ok(call, JSON.stringify(r.output));
  assert.equal(call.name, 'get_weather');
  assert.equal(call.arguments, '{"city":"Rome"}');
  const next = await client.responses.create({
    model,
    previous_response_id: r.id,
    tools: [weather],
    input: [{ type: 'function_call_output', call_id: call.call_id, output: 'sunny, 24 C' }],
  });
  assert.equal(next.output_text, 'The result is: sunny, 24 C');
});

check('streamed function call', async () => {
  const stream = await client.responses.create({ model: models[0], input: 'weather? get_weather {"city":"Oslo"}', tools: [weather], stream: true });
  let args = '';
  let done = '';
  for await (const ev of stream) {
    if (ev.type === 'response.function_call_arguments.delta') args += ev.delta;
    if (ev.type === 'response.function_call_arguments.done') done = ev.arguments;
  }
  assert.equal(args, '{"city":"Oslo"}');
  assert.equal(done, args);
});

check("another user's response is not found", async () => {
  const r = await client.responses.create({ model: models[0], input: 'mine' });
  await assert.rejects(bob.responses.retrieve(r.id), (e) => e instanceof OpenAI.NotFoundError && e.code === 'response_not_found');
  await assert.rejects(bob.responses.delete(r.id), (e) => e instanceof OpenAI.NotFoundError);
  await client.responses.delete(r.id);
  await assert.rejects(client.responses.retrieve(r.id), (e) => e instanceof OpenAI.NotFoundError);
});

let passed = 0;
let failed = 0;
for (const { name, fn } of checks) {
  try {
    await fn();
    passed++;
    console.log(`ok ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.stack ?? e}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
