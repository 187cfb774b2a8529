// Drives the developer portal in headless Chromium (Debian's, through
// playwright-core): the playground's streaming chat, image upload and tool calls,
// its conversation mode (/c1) and agent mode (/a1), Swagger UI's "Try it out", ReDoc
// and a docs page. Run by TestBrowser, which starts
// the gateway; env: BASE_URL, TOKEN, CHROMIUM, SCREENSHOT_DIR (SCREENSHOTS=always
// also keeps screenshots of passing steps, for a look at the pages).
import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { steps } from './steps.mjs';

const { BASE_URL, TOKEN, CHROMIUM = '/usr/bin/chromium', SCREENSHOT_DIR = 'screenshots', SCREENSHOTS } = process.env;
if (!BASE_URL || !TOKEN) {
  console.error('BASE_URL and TOKEN must be set');
  process.exit(2);
}
const base = new URL(BASE_URL);
mkdirSync(SCREENSHOT_DIR, { recursive: true });
const profile = mkdtempSync(join(tmpdir(), 'spass-chromium-'));

const context = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  headless: true,
  viewport: { width: 1400, height: 1000 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});

// The portal must work offline: any request that leaves the gateway is a failure
// (and is refused, so a CDN dependency cannot pass by accident).
const foreign = [];
await context.route('**/*', (route) => {
  const u = new URL(route.request().url());
  if (u.protocol === 'data:' || u.protocol === 'blob:' || u.host === base.host) return route.continue();
  foreign.push(u.href);
  return route.abort();
});

const page = context.pages()[0] ?? (await context.newPage());
page.setDefaultTimeout(20_000);
const problems = [];
page.on('pageerror', (e) => problems.push('page error: ' + e.message));
page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });

let passed = 0;
let failed = 0;
for (const [name, run] of steps) {
  problems.length = 0;
  try {
    await run(page, { base: BASE_URL, token: TOKEN });
    if (problems.length) throw new Error(problems.join('\n'));
    passed++;
    console.log(`ok   ${name}`);
    if (SCREENSHOTS === 'always') await page.screenshot({ path: join(SCREENSHOT_DIR, name + '.png'), fullPage: true });
  } catch (err) {
    failed++;
    const shot = join(SCREENSHOT_DIR, name + '.png');
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    console.log(`FAIL ${name}: ${err.message}\n     screenshot: ${shot}`);
  }
}
if (foreign.length) {
  failed++;
  console.log('FAIL offline: the pages requested other hosts:\n  ' + [...new Set(foreign)].join('\n  '));
} else {
  passed++;
  console.log('ok   offline: every request went to the gateway');
}
await context.close();
rmSync(profile, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
