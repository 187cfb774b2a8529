// Drives /playground/stt in headless Chromium whose microphone is a WAV file
// (--use-file-for-fake-audio-capture, looped): the page records it, encodes a WAV
// and shows the transcript the gateway's simulator heard. Run by TestBrowserSTT;
// env: BASE_URL, TOKEN, CHROMIUM, AUDIO_WAV, WANT (the transcript), SCREENSHOT_DIR.
import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { BASE_URL, TOKEN, CHROMIUM = '/usr/bin/chromium', AUDIO_WAV, WANT, SCREENSHOT_DIR = 'screenshots' } = process.env;
if (!BASE_URL || !TOKEN || !AUDIO_WAV || !WANT) {
  console.error('BASE_URL, TOKEN, AUDIO_WAV and WANT must be set');
  process.exit(2);
}
mkdirSync(SCREENSHOT_DIR, { recursive: true });
const profile = mkdtempSync(join(tmpdir(), 'spass-chromium-stt-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync',
    '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${AUDIO_WAV}`,
    '--autoplay-policy=no-user-gesture-required'],
  permissions: ['microphone'],
});
const page = context.pages()[0] ?? (await context.newPage());
page.setDefaultTimeout(30_000);
const problems = [];
page.on('pageerror', (e) => problems.push('page error: ' + e.message));
page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });

let passed = 0;
let failed = 0;
async function step(name, run) {
  problems.length = 0;
  try {
    await run();
    if (problems.length) throw new Error(problems.join('\n'));
    passed++;
    console.log(`ok   ${name}`);
  } catch (err) {
    failed++;
    const shot = join(SCREENSHOT_DIR, name + '.png');
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    console.log(`FAIL ${name}: ${err.message}\n     screenshot: ${shot}`);
  }
}

for (const streamed of [true, false]) {
  await step(`stt-${streamed ? 'streamed' : 'json'}`, async () => {
    await page.goto(BASE_URL + '/playground/stt');
    await page.fill('#stt-token', TOKEN);
    await page.fill('#stt-user', 'browser-test');
    await page.click('#stt-connect');
    await page.locator('#stt-model option[value="sim-whisper"]').waitFor({ state: 'attached' });
    await page.selectOption('#stt-model', 'sim-whisper');
    await page.fill('#stt-seconds', '4');
    if (!streamed) await page.uncheck('#stt-stream');
    await page.click('#stt-record');
    const out = page.locator('#stt-text');
    await page.locator('#stt-text[data-state="done"], #stt-text[data-state="error"]').waitFor();
    const state = await out.getAttribute('data-state');
    const text = await out.innerText();
    if (state !== 'done') throw new Error(`state ${state}: ${await page.innerText('#stt-status')}`);
    if (text.trim() !== WANT) throw new Error(`transcript ${JSON.stringify(text)}, want ${JSON.stringify(WANT)}`);
    const meta = await page.innerText('#stt-meta');
    if (!meta.includes('SPASS-Backend: sim')) throw new Error(`served-by line: ${meta}`);
  });
}

await context.close();
rmSync(profile, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
