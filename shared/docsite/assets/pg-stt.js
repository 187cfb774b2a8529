// The speech-to-text playground (/playground/stt): records the microphone for a
// few seconds through Web Audio, encodes the samples as a 16-bit PCM WAV file in
// the page (no codec needed on the backend side), and sends it to
// POST /v1/audio/transcriptions, showing the transcript as it streams in.
const $ = (id) => document.getElementById(id);
const TOKEN_KEY = 'spass.playground.token';

function status(text, error = false) {
  $('stt-status').textContent = text;
  $('stt-status').classList.toggle('error', error);
}

function headers() {
  return { Authorization: `Bearer ${$('stt-token').value.trim()}`, 'SPASS-User-Id': $('stt-user').value.trim() || 'playground' };
}

async function apiError(res) {
  try {
    const body = await res.json();
    return `${res.status} ${body.error?.code}: ${body.error?.message}`;
  } catch {
    return `${res.status} ${res.statusText}`;
  }
}

// loadModels fills the select with the models some backend of whose chain
// transcribes (audio_in), transcription models first.
async function loadModels() {
  sessionStorage.setItem(TOKEN_KEY, $('stt-token').value.trim());
  const res = await fetch('/v1/info', { headers: headers() });
  if (!res.ok) {
    status(await apiError(res), true);
    return;
  }
  const { data } = await res.json();
  const audio = data.filter((m) => (m.capabilities ?? []).includes('audio_in'));
  audio.sort((a, b) => (b.type === 'transcription') - (a.type === 'transcription'));
  $('stt-model').replaceChildren(...audio.map((m) => new Option(`${m.id} (${m.type})`, m.id)));
  $('stt-record').disabled = audio.length === 0;
  status(audio.length ? `${audio.length} models transcribe.` : 'No model of this gateway transcribes.', audio.length === 0);
}

// record captures seconds of mono audio and returns [samples, sampleRate].
async function record(seconds) {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 },
  });
  const ctx = new AudioContext();
  await ctx.resume();
  const source = ctx.createMediaStreamSource(stream);
  const proc = ctx.createScriptProcessor(4096, 1, 1);
  const mute = ctx.createGain();
  mute.gain.value = 0;
  const chunks = [];
  let total = 0;
  const want = Math.round(seconds * ctx.sampleRate);
  await new Promise((resolve) => {
    proc.onaudioprocess = (e) => {
      const data = e.inputBuffer.getChannelData(0);
      chunks.push(new Float32Array(data));
      total += data.length;
      let peak = 0;
      for (const v of data) peak = Math.max(peak, Math.abs(v));
      $('stt-level').value = peak;
      if (total >= want) resolve();
    };
    source.connect(proc);
    proc.connect(mute);
    mute.connect(ctx.destination);
  });
  proc.disconnect();
  source.disconnect();
  stream.getTracks().forEach((t) => t.stop());
  const rate = ctx.sampleRate;
  await ctx.close();
  const samples = new Float32Array(total);
  let at = 0;
  for (const c of chunks) {
    samples.set(c, at);
    at += c.length;
  }
  return [samples, rate];
}

// wav encodes mono samples as a 16-bit PCM WAV file.
function wav(samples, rate) {
  const buf = new ArrayBuffer(44 + samples.length * 2);
  const v = new DataView(buf);
  const text = (at, s) => [...s].forEach((c, i) => v.setUint8(at + i, c.charCodeAt(0)));
  text(0, 'RIFF');
  v.setUint32(4, 36 + samples.length * 2, true);
  text(8, 'WAVEfmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, rate, true);
  v.setUint32(28, rate * 2, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  text(36, 'data');
  v.setUint32(40, samples.length * 2, true);
  samples.forEach((s, i) => v.setInt16(44 + i * 2, Math.max(-1, Math.min(1, s)) * 0x7fff, true));
  return new Blob([buf], { type: 'audio/wav' });
}

// transcribe posts the recording and shows the transcript: event by event when
// streamed, at once otherwise.
async function transcribe(file) {
  const out = $('stt-text');
  const form = new FormData();
  form.append('file', file, 'recording.wav');
  form.append('model', $('stt-model').value);
  const streamed = $('stt-stream').checked;
  if (streamed) form.append('stream', 'true');
  const res = await fetch('/v1/audio/transcriptions', { method: 'POST', headers: headers(), body: form });
  if (!res.ok) throw new Error(await apiError(res));
  $('stt-meta').textContent = `SPASS-Backend: ${res.headers.get('SPASS-Backend')} · SPASS-Tier: ${res.headers.get('SPASS-Tier')}`;
  if (!res.headers.get('Content-Type')?.startsWith('text/event-stream')) {
    const body = await res.json();
    out.textContent = body.text;
    return;
  }
  out.dataset.state = 'streaming';
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let pending = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    pending += value;
    let end;
    while ((end = pending.indexOf('\n\n')) >= 0) {
      const event = pending.slice(0, end);
      pending = pending.slice(end + 2);
      for (const line of event.split('\n')) {
        if (!line.startsWith('data:')) continue;
        const data = line.slice(5).trim();
        if (data === '[DONE]') continue;
        const ev = JSON.parse(data);
        if (ev.type === 'transcript.text.delta') out.textContent += ev.delta;
        if (ev.type === 'transcript.text.done') out.textContent = ev.text;
        if (ev.error) throw new Error(`${ev.error.code}: ${ev.error.message}`);
      }
    }
  }
}

$('stt-token').value = sessionStorage.getItem(TOKEN_KEY) ?? localStorage.getItem(TOKEN_KEY) ?? '';
$('stt-connect').addEventListener('click', () => loadModels().catch((e) => status(e.message, true)));
$('stt-record').addEventListener('click', async () => {
  const out = $('stt-text');
  $('stt-record').disabled = true;
  out.textContent = '';
  try {
    out.dataset.state = 'recording';
    status('Recording…');
    const [samples, rate] = await record(Number($('stt-seconds').value) || 5);
    out.dataset.state = 'sending';
    status(`Recorded ${(samples.length / rate).toFixed(1)} s at ${rate} Hz; transcribing…`);
    await transcribe(wav(samples, rate));
    out.dataset.state = 'done';
    status('Done.');
  } catch (e) {
    out.dataset.state = 'error';
    status(e.message, true);
  } finally {
    $('stt-record').disabled = false;
  }
});
