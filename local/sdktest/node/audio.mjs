// Drives the official `openai` npm package's audio and moderation calls through a
// running SPASS gateway: audio.transcriptions.create (plain and streamed),
// audio.speech.create and moderations.create. TestNodeSDKAudio
// (local/sdktest/node_audio_test.go) starts the gateway and runs this script with
// SPASS_BASE_URL, SPASS_TOKEN, SPASS_AUDIO_WAV (a WAV file in the simulator's tone
// code) and SPASS_AUDIO_TEXT (what it says).
//
// It prints "ok <check>" per passing check, the failure of any other, and ends
// with "<n> passed, <m> failed"; the exit status is 1 if anything failed.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import OpenAI, { toFile } from 'openai';

function env(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`missing environment variable ${name}`);
    process.exit(2);
  }
  return v;
}

const client = new OpenAI({
  baseURL: env('SPASS_BASE_URL'),
  apiKey: env('SPASS_TOKEN'),
  defaultHeaders: { 'SPASS-User-Id': 'alice' },
  maxRetries: 0,
  timeout: 30_000,
});
const wav = readFileSync(env('SPASS_AUDIO_WAV'));
const said = env('SPASS_AUDIO_TEXT');

const checks = [];
const check = (name, fn) => checks.push({ name, fn });

check('audio.transcriptions.create', async () => {
  const t = await client.audio.transcriptions.create({
    file: await toFile(wav, 'speech.wav', { type: 'audio/wav' }),
    model: 'sim-whisper',
  });
  assert.equal(t.text, said);
});

check('audio.transcriptions.create verbose_json', async () => {
  const t = await client.audio.transcriptions.create({
    file: await toFile(wav, 'speech.wav', { type: 'audio/wav' }),
    model: 'sim-whisper',
    response_format: 'verbose_json',
  });
  assert.equal(t.text, said);
  assert.ok(t.duration > 0 && t.segments.length === said.split(' ').length, JSON.stringify(t));
});

check('audio.transcriptions.create text', async () => {
  const t = await client.audio.transcriptions.create({
    file: await toFile(wav, 'speech.wav', { type: 'audio/wav' }),
    model: 'sim-whisper',
    response_format: 'text',
  });
  assert.equal(String(t).trim(), said);
});

check('audio.transcriptions.create stream', async () => {
  const stream = await client.audio.transcriptions.create({
    file: await toFile(wav, 'speech.wav', { type: 'audio/wav' }),
    model: 'sim-whisper',
    stream: true,
  });
  let text = '';
  let done;
  for await (const ev of stream) {
    if (ev.type === 'transcript.text.delta') text += ev.delta;
    if (ev.type === 'transcript.text.done') done = ev;
  }
  assert.equal(text, said);
  assert.equal(done?.text, said);
  assert.ok(done.usage?.input_tokens > 0, JSON.stringify(done));
});

check('audio.speech.create', async () => {
  const res = await client.audio.speech.create({ model: 'sim-tts', input: 'Hi from Node', voice: 'alloy', response_format: 'wav' });
  assert.equal(res.headers.get('content-type'), 'audio/wav');
  assert.equal(res.headers.get('spass-backend'), 'sim');
  const audio = Buffer.from(await res.arrayBuffer());
  assert.equal(audio.subarray(0, 4).toString(), 'RIFF');
  // Round trip: the gateway transcribes its own speech.
  const t = await client.audio.transcriptions.create({ file: await toFile(audio, 'hi.wav'), model: 'sim-whisper' });
  assert.equal(t.text, 'hi from node');
});

check('moderations.create', async () => {
  const m = await client.moderations.create({ model: 'sim-moderation', input: ['I will kill them', 'What a nice day'] });
  assert.equal(m.results.length, 2);
  assert.equal(m.results[0].flagged, true);
  assert.equal(m.results[0].categories.violence, true);
  assert.equal(m.results[1].flagged, false);
});

check('moderations.create with the tenant model (Llama Guard)', async () => {
  const m = await client.moderations.create({ input: 'I hate you' });
  assert.equal(m.model, 'llama-guard');
  assert.equal(m.results[0].flagged, true);
  assert.equal(m.results[0].categories.hate, true);
  assert.deepEqual(m.results[0].hazards, ['S10']);
});

check('error 501 capability_not_supported', async () => {
  let err;
  try {
    await client.audio.speech.create({ model: 'sim-chat-tgi', input: 'x', voice: 'alloy' });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof OpenAI.APIError, `got ${err}`);
  assert.equal(err.status, 501);
  assert.equal(err.code, 'capability_not_supported');
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
