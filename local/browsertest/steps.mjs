// The browser test's steps, in order; each gets the page and { base, token }.
// Waits are on what the page shows (selectors, data-state), never on time.

// A 2×2 red PNG for the image upload.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGO4o6YGRAwQCgAjRgSh7v9IEwAAAABJRU5ErkJggg==', 'base64');

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

// assistantDone waits for the n-th assistant bubble to finish and returns its text.
async function assistantDone(page, n) {
  const bubble = page.locator('.msg.assistant').nth(n);
  await bubble.and(page.locator('[data-state="done"]')).waitFor();
  return bubble.locator('.text').innerText();
}

async function openPlayground(page, { base, token }) {
  await page.goto(base + '/playground');
  await page.fill('#pg-token', token);
  await page.fill('#pg-user', 'browser-test');
  await page.click('#pg-connect');
  await page.locator('.model-card[data-model="sim-chat"]').waitFor();
  const vision = await page.locator('.model-card[data-model="sim-vision"]').innerText();
  check(vision.includes('in: image'), `sim-vision's card does not show image input: ${vision}`);
  check(await page.locator('.model-card[data-model="sim-embed"]').isDisabled(), 'the embedding model can be picked for chat');
  check(await page.evaluate(() => sessionStorage.getItem('spass.playground.token') !== null && localStorage.getItem('spass.playground.token') === null),
    'the token must be in sessionStorage only unless remembered');
}

// streamChat records every change of the answer bubble while it streams, so the
// test sees tokens arrive one after another instead of the answer at once.
async function streamChat(page) {
  await page.click('.model-card[data-model="sim-chat"]');
  check(await page.isChecked('#pg-stream'), 'streaming is off by default');
  await page.evaluate(() => {
    window.__seen = [];
    new MutationObserver(() => {
      const b = [...document.querySelectorAll('.msg.assistant')].at(-1);
      if (b) window.__seen.push([b.dataset.state, b.querySelector('.text').textContent.length]);
    }).observe(document.getElementById('pg-messages'), { subtree: true, childList: true, characterData: true, attributes: true });
  });
  await page.fill('#pg-input', 'Please stream this sentence back to me one token at a time');
  await page.press('#pg-input', 'Enter');
  const text = await assistantDone(page, 0);
  check(text.includes('You said: Please stream this sentence'), `answer: ${text}`);
  const growing = new Set((await page.evaluate(() => window.__seen)).filter(([s]) => s === 'streaming').map(([, n]) => n));
  check(growing.size >= 5, `saw only ${growing.size} partial answers while streaming`);
  const chunks = Number(await page.locator('.msg.assistant').first().getAttribute('data-chunks'));
  check(chunks >= 5, `only ${chunks} chunks`);
  const meta = await page.innerText('#pg-meta');
  check(meta.includes('SPASS-Backend') && meta.includes('SPASS-Tier'), `served-by line: ${meta}`);
}

// imageUpload drops an image on the chat (a synthetic drop event with a real File)
// for a vision model and checks the model saw it.
async function imageUpload(page) {
  await page.click('.model-card[data-model="sim-vision"]');
  await page.evaluate((bytes) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(bytes)], 'red.png', { type: 'image/png' }));
    const drop = document.getElementById('pg-drop');
    drop.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    drop.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, [...PNG]);
  await page.locator('#pg-attachment img').waitFor();
  await page.fill('#pg-input', 'What is in this image?');
  await page.click('#pg-send');
  const text = await assistantDone(page, 1);
  check(text.includes('I see an image'), `the vision model did not get the image: ${text}`);
  check(await page.locator('.msg.user img.thumb').count() === 1, 'the sent message shows no thumbnail');
  check(await page.locator('#pg-attachment img').count() === 0, 'the attachment was not cleared after sending');
}

// addTool defines a function in the tool builder.
async function addTool(page, name, description, params) {
  await page.fill('#pg-tool-name', name);
  await page.fill('#pg-tool-desc', description);
  await page.fill('#pg-tool-params', params);
  await page.click('#pg-tool-add');
  await page.locator(`#pg-tool-list li[data-tool="${name}"]`).waitFor();
}

const CITY = '{"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}';

// answerCard answers an open tool-call card and waits until it shows answered (the
// element itself: a locator of open cards moves on to the next one).
async function answerCard(card, result) {
  const node = await card.elementHandle();
  await card.locator('.tool-result').fill(result);
  await card.locator('.tool-send').click();
  await card.page().waitForFunction((el) => el.dataset.state === 'answered', node);
}

// toolCall defines a function and asks a question it fits without naming it: the
// model calls it with the city from the message, the user answers, the model answers.
async function toolCall(page) {
  await page.click('#pg-clear');
  await page.click('.model-card[data-model="sim-chat"]');
  check(await page.isDisabled('#pg-tool-choice'), 'tool_choice is enabled with no tool defined');
  await addTool(page, 'get_weather', 'Current weather for a city', CITY);
  check(!(await page.isDisabled('#pg-tool-choice')), 'tool_choice stays disabled with a tool defined');
  await page.fill('#pg-input', 'What is the weather like in Paris today?');
  await page.click('#pg-send');
  const card = page.locator('.msg.tool-call[data-tool="get_weather"]');
  await card.waitFor();
  const args = JSON.parse(await card.locator('.tool-args').innerText());
  check(args.city === 'Paris', `tool arguments ${JSON.stringify(args)}, want the city of the message`);
  check(await card.getAttribute('data-state') === 'open', 'the call card is not open for an answer');
  await answerCard(card, '{"temp_c": 21, "sky": "clear"}');
  const text = await assistantDone(page, 1);
  check(text.includes('The result is: {"temp_c": 21, "sky": "clear"}'), `final answer: ${text}`);
}

// toolChoice: "none" gets a text answer; forcing a function calls that one; a message
// naming two tools gets a card for every call, and the chat goes on once each has
// its result. Then the tools are removed and tool_choice is disabled again.
async function toolChoice(page) {
  await page.click('#pg-clear');
  await addTool(page, 'get_time', 'The local time in a city', CITY);
  const cards = page.locator('.msg.tool-call');

  await page.selectOption('#pg-tool-choice', 'none');
  await page.fill('#pg-input', 'What is the weather like in Paris?');
  await page.click('#pg-send');
  check((await assistantDone(page, 0)).includes('You said'), 'tool_choice none still called a tool');
  check(await cards.count() === 0, 'a tool-call card with tool_choice none');

  await page.selectOption('#pg-tool-choice', 'fn:get_time');
  await page.fill('#pg-input', 'What is the weather like in Paris?');
  await page.click('#pg-send');
  const forced = page.locator('.msg.tool-call[data-tool="get_time"]');
  await forced.waitFor();
  check(await cards.count() === 1, `forcing get_time made ${await cards.count()} calls`);
  await answerCard(forced, '14:05');
  await assistantDone(page, 2);

  await page.selectOption('#pg-tool-choice', 'auto');
  await page.fill('#pg-input', 'Call get_weather and get_time for Rome');
  await page.click('#pg-send');
  const open = page.locator('.msg.tool-call[data-state="open"]');
  await open.nth(1).waitFor();
  check(await open.count() === 2, `${await open.count()} open cards for two calls`);
  for (const name of ['get_weather', 'get_time']) {
    const card = open.and(page.locator(`[data-tool="${name}"]`));
    check(JSON.parse(await card.locator('.tool-args').innerText()).city === 'Rome', `${name} did not get Rome`);
  }
  await answerCard(open.first(), '{"temp_c": 24}');
  check(await page.locator('.msg.assistant').count() === 4, 'the chat went on before every call had its result');
  await answerCard(open.first(), '18:30');
  check((await assistantDone(page, 4)).includes('The result is: 18:30'), 'no answer after both results');

  for (const name of ['get_weather', 'get_time']) await page.click(`#pg-tool-list li[data-tool="${name}"] button`);
  check(await page.locator('#pg-tool-list li').count() === 0, 'the tools were not removed');
  check(await page.isDisabled('#pg-tool-choice') && await page.inputValue('#pg-tool-choice') === 'auto', 'tool_choice is not reset');
}

async function jsonMode(page) {
  await page.click('#pg-clear');
  check(!(await page.isDisabled('#pg-json')), 'JSON mode is disabled for sim-chat');
  await page.check('#pg-json');
  await page.fill('#pg-input', 'Three colours');
  await page.click('#pg-send');
  await assistantDone(page, 0);
  const json = JSON.parse(await page.locator('.msg.assistant pre.json').innerText());
  check(typeof json.answer === 'string', `JSON answer ${JSON.stringify(json)}`);
  await page.uncheck('#pg-json');
}

// conversationMode switches the playground to /c1: starts a conversation on the
// local provider (streamed), continues it, sees it listed, switches its provider,
// starts a second one and reopens the first from the list, history and all.
async function conversationMode(page) {
  await page.click('#pg-clear');
  await page.click('.model-card[data-model="sim-chat"]');
  await page.click('#pg-mode-conv');
  await page.locator('#pg-conv-card').waitFor();
  await page.locator('#pg-conv-list li.hint').waitFor(); // this user has none yet
  const say = async (text, n) => {
    await page.fill('#pg-input', text);
    await page.press('#pg-input', 'Enter');
    const answer = await assistantDone(page, n);
    check(answer.includes('You said: ' + text), `answer to "${text}": ${answer}`);
  };
  const listed = (id, text) => page.locator(`.conv-item[data-conv="${id}"]`, { hasText: text }).waitFor();

  await page.selectOption('#pg-provider', 'local');
  await say('My name is Ada', 0);
  const chunks = Number(await page.locator('.msg.assistant').first().getAttribute('data-chunks'));
  check(chunks >= 3, `the turn was not streamed: ${chunks} chunks`);
  const current = page.locator('.conv-item[aria-current="true"]');
  await current.waitFor();
  const id = await current.getAttribute('data-conv');
  check(/^conv_/.test(id), `listed id ${id}`);
  const meta = await page.innerText('#pg-meta');
  check(meta.includes('SPASS-Conversation-Id') && meta.includes(id), `served-by line: ${meta}`);
  await listed(id, 'local · 2 messages');

  await say('What is my name?', 1);
  await listed(id, 'local · 4 messages');
  await page.selectOption('#pg-provider', 'auto');
  await say('Anywhere is fine now', 2);
  await listed(id, 'auto · 6 messages');
  check((await page.innerText('#pg-conv-title')).includes('My name is Ada'), 'the heading does not name the conversation');

  await page.click('#pg-conv-new');
  check(await page.locator('#pg-messages .msg').count() === 0, 'a new conversation does not start empty');
  await say('A second conversation', 0);
  await page.locator('.conv-item').nth(1).waitFor();
  check(await page.locator('.conv-item').count() === 2, 'the list does not show both conversations');
  check(await page.locator('.conv-item').first().getAttribute('aria-current') === 'true', 'the new conversation is not first and open');

  await page.click(`.conv-item[data-conv="${id}"]`);
  await page.locator('.msg.user', { hasText: 'What is my name?' }).waitFor();
  check(await page.locator('#pg-messages .msg').count() === 6, `reopened with ${await page.locator('#pg-messages .msg').count()} messages, want 6`);
  check(await page.inputValue('#pg-provider') === 'auto', 'the reopened conversation lost its provider');
  await say('Still there?', 3);
  await listed(id, 'auto · 8 messages');
  check(await page.locator('.conv-item').first().getAttribute('data-conv') === id, 'the continued conversation did not move to the top');

  await page.click('#pg-mode-chat');
  check(await page.locator('#pg-conv-card').isHidden(), 'the conversation list stays in chat mode');
}

// agentMode switches the playground to /a1: picks the file agent, talks to it
// (streamed) and sees its calculator step arrive before the answer is done, continues
// the session, starts a second one and reopens the first with its stored steps.
async function agentMode(page) {
  await page.click('#pg-mode-agent');
  await page.locator('#pg-agent-card').waitFor();
  check(await page.locator('#pg-models-card').isHidden(), 'the model cards stay in agent mode');
  await page.locator('#pg-agent option[value="researcher"]').waitFor({ state: 'attached' });
  await page.selectOption('#pg-agent', 'researcher');
  await page.locator('#pg-agent-info .chip', { hasText: 'calculator' }).waitFor();
  await page.locator('#pg-session-list li.hint').waitFor(); // this user has none yet
  check((await page.innerText('#pg-model-name')) === 'researcher', 'the heading does not name the agent');
  await page.evaluate(() => {
    window.__stepStates = [];
    new MutationObserver((records) => {
      for (const r of records) {
        for (const n of r.addedNodes) {
          if (n.classList?.contains('step')) window.__stepStates.push([...document.querySelectorAll('.msg.assistant')].at(-1)?.dataset.state ?? 'none');
        }
      }
    }).observe(document.getElementById('pg-messages'), { childList: true });
  });
  const say = async (text, n) => {
    await page.fill('#pg-input', text);
    await page.press('#pg-input', 'Enter');
    return assistantDone(page, n);
  };
  const listed = (id, text) => page.locator(`.session-item[data-session="${id}"]`, { hasText: text }).waitFor();

  const answer = await say('Use the calculator: {"expression": "6*7"}', 0);
  check(answer.includes('42'), `answer: ${answer}`);
  const step = page.locator('.msg.step[data-tool="calculator"]');
  check(await step.count() === 1, `${await step.count()} calculator steps shown`);
  check((await step.locator('.step-result').innerText()).includes('42'), 'the step does not show the result');
  const states = await page.evaluate(() => window.__stepStates);
  check(states.length === 1 && ['waiting', 'streaming'].includes(states[0]), `the step arrived with the answer ${states[0]}, not while it streamed`);
  const chunks = Number(await page.locator('.msg.assistant').first().getAttribute('data-chunks'));
  check(chunks >= 3, `the turn was not streamed: ${chunks} chunks`);
  const current = page.locator('.session-item[aria-current="true"]');
  await current.waitFor();
  const id = await current.getAttribute('data-session');
  check(/^sess_/.test(id), `listed id ${id}`);
  check((await page.innerText('#pg-conv-title')).includes(id), 'the heading does not name the session');
  await listed(id, '2 messages');

  const second = await say('Thank you', 1);
  check(second.includes('You said: Thank you'), `second answer: ${second}`);
  await listed(id, '4 messages');

  await page.click('#pg-session-new');
  check(await page.locator('#pg-messages .msg').count() === 0, 'a new session does not start empty');
  await say('A second session', 0);
  await page.locator('.session-item').nth(1).waitFor();
  check(await page.locator('.session-item').first().getAttribute('aria-current') === 'true', 'the new session is not first and open');

  await page.click(`.session-item[data-session="${id}"]`);
  await page.locator('.msg.user', { hasText: 'Thank you' }).waitFor();
  check(await page.locator('#pg-messages .msg').count() === 5, `reopened with ${await page.locator('#pg-messages .msg').count()} messages, want 5 (two turns and a step)`);
  check(await page.locator('#pg-messages .msg.step[data-tool="calculator"]').count() === 1, 'the reopened session lost its step');

  await page.click('#pg-mode-chat');
  check(await page.locator('#pg-agent-card').isHidden(), 'the agent card stays in chat mode');
  check(await page.locator('#pg-models-card').isVisible(), 'the model cards do not come back in chat mode');
}

// swaggerTryItOut authorizes with the token and runs GET /v1/models from Swagger UI.
async function swaggerTryItOut(page, { base, token }) {
  await page.goto(base + '/openapi');
  await page.locator('.swagger-ui .info .title', { hasText: 'SPASS gateway API' }).waitFor();
  await page.click('.swagger-ui .btn.authorize');
  // The dialog lists every scheme (the admin group's Basic auth too): use the bearer one.
  const bearer = page.locator('.modal-ux .auth-container', { hasText: 'bearerAuth' });
  await bearer.locator('input').fill(token);
  await bearer.locator('button.authorize').click();
  await bearer.locator('button.logout, .btn-done').first().waitFor();
  await page.click('.modal-ux .close-modal');
  const op = page.locator('#operations-Models-listModels');
  await op.locator('.opblock-summary').click();
  await op.locator('.try-out__btn').click();
  await op.locator('.execute').click();
  const status = op.locator('.live-responses-table tbody .response-col_status').first();
  await status.waitFor();
  check((await status.innerText()).trim() === '200', `Try it out answered ${await status.innerText()}`);
  const body = await op.locator('.live-responses-table tbody .response-col_description').first().innerText();
  check(body.includes('sim-chat'), `response body: ${body.slice(0, 200)}`);
}

async function redoc(page, { base }) {
  await page.goto(base + '/redoc');
  await page.locator('#redoc h1', { hasText: 'SPASS gateway API' }).waitFor();
  await page.locator('#redoc h2', { hasText: 'Create a chat completion' }).waitFor();
  check(await page.locator('.topbar a[aria-current="page"]', { hasText: 'ReDoc' }).count() === 1, 'the portal header is missing');
}

async function docsPage(page, { base }) {
  await page.goto(base + '/docs');
  await page.click('.sidebar a[href="/docs/quickstart"]');
  await page.locator('main h1', { hasText: 'Quickstart' }).waitFor();
  check(await page.locator('main pre.chroma').count() > 0, 'no highlighted code block');
  await page.click('.sidebar a[href="/docs/models"]');
  await page.locator('main h1', { hasText: 'Models and constraints' }).waitFor();
  check(await page.locator('main table').count() > 0, 'no table on the models page');
  const color = await page.evaluate(() => getComputedStyle(document.querySelector('.sidebar a[aria-current="page"]')).backgroundColor);
  check(color === 'rgb(15, 118, 110)', `the theme is not applied: ${color}`);
}

export const steps = [
  ['playground-models', openPlayground],
  ['playground-stream', streamChat],
  ['playground-image', imageUpload],
  ['playground-tools', toolCall],
  ['playground-tool-choice', toolChoice],
  ['playground-json', jsonMode],
  ['playground-conversations', conversationMode],
  ['playground-agents', agentMode],
  ['swagger-try-it-out', swaggerTryItOut],
  ['redoc', redoc],
  ['docs', docsPage],
];
