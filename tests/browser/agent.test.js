// The agent console (/agent) against the real server: a resident asks for a person in the
// widget, an agent signs in, sees them waiting, claims, reads what they already said, replies;
// each sees the other's messages live. Then axe, keyboard focus, target sizes, a claim race
// and a resident message that tries to inject HTML.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { AxeBuilder } from '@axe-core/playwright';
import { startServer, launchBrowser, until, storedConversation } from './helpers.js';

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const ALEX = randomBytes(24).toString('hex');
const SAM = randomBytes(24).toString('hex');
const sha256 = (t) => createHash('sha256').update(t).digest('hex');
const XSS = '<img src=x onerror=window.__xss=1>';
const REPLY = "Hello, I'm Alex";

let server, browser, resident, agent, conversationId;
const pageErrors = [];

before(async () => {
  server = await startServer({
    env: {
      HA_AGENTS: `Alex:agent:${sha256(ALEX)};Sam:agent:${sha256(SAM)}`,
      HA_TEAMS_ALWAYS_OPEN: '1',
    },
  });
  browser = await launchBrowser();
  resident = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  agent = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
  for (const p of [resident, agent]) p.on('pageerror', (e) => pageErrors.push(e.message));
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The resident API, straight from Node. */
async function residentApi(method, path, token, body, base = server.url) {
  const res = await fetch(`${base}/api/v1/conversations${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, data: res.status === 204 ? null : await res.json() };
}

async function signIn(page, token) {
  await page.locator('#token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('a resident who asks for a person in the widget is queued', { timeout: 60_000 }, async () => {
  await resident.goto(server.url + '/');
  await resident.waitForFunction(() => window.HertsAssistant && typeof window.HertsAssistant.open === 'function');
  await resident.evaluate(() => window.HertsAssistant.open());
  await resident.locator('.ha-msg--bot').first().waitFor();
  await resident.locator('.ha-input').fill('I want to talk to a person');
  await resident.locator('.ha-input').press('Enter');
  const stored = await until(storedConversation.bind(null, resident), 'the conversation in sessionStorage');
  conversationId = stored.id;
  await until(async () => (await residentApi('GET', `/${stored.id}`, stored.token)).data?.state === 'queued',
    'the conversation to be queued');
});

test('the agent signs in (a wrong token is refused) and sees the resident waiting', { timeout: 60_000 }, async () => {
  await agent.goto(server.url + '/agent');
  await signIn(agent, 'not-a-real-token');
  const error = agent.locator('#token-error');
  await error.waitFor();
  assert.match(await error.textContent(), /not accepted/);
  assert.equal(await agent.locator('#token').getAttribute('aria-invalid'), 'true');

  await signIn(agent, ALEX);
  await until(async () => (await agent.locator('#agent-name').textContent()) === 'Alex', 'signed in as Alex');
  assert.equal(await agent.evaluate(() => sessionStorage.getItem('herts-assistant-agent:token') !== null), true);

  const item = agent.locator(`.q-item[data-conv="${conversationId}"]`);
  await item.waitFor({ timeout: 10_000 });
  const text = await item.textContent();
  assert.match(text, /talk to a person/, 'the last message is shown');
  assert.match(text, /Waiting \d/, 'the waiting time is shown');
});

test('the agent claims, sees what the resident already said, and replies', { timeout: 60_000 }, async () => {
  await agent.locator(`.q-item[data-conv="${conversationId}"]`).click();
  await agent.locator('.msg-resident', { hasText: 'I want to talk to a person' }).waitFor();
  assert.equal(await agent.locator('#reply').isDisabled(), true, 'no reply before claiming');
  assert.match(await agent.locator('#details').textContent(), /I want to talk to a person/, 'ask once: the question is in the details');

  await agent.getByRole('button', { name: 'Claim' }).click();
  await until(async () => !(await agent.locator('#reply').isDisabled()), 'the reply box after claiming');
  await until(async () => /With you/.test(await agent.locator('#conv-status').textContent()), '"With you" status');
  await agent.locator(`#mine .q-item[data-conv="${conversationId}"]`).waitFor({ timeout: 10_000 });

  await agent.locator('#reply').fill(REPLY);
  await agent.locator('#reply').press('Enter');
  await agent.locator('.msg-agent', { hasText: REPLY }).waitFor({ timeout: 10_000 });
  assert.equal(await agent.locator('#reply').inputValue(), '', 'the box is emptied after sending');
  assert.equal(await agent.locator('.msg-agent', { hasText: REPLY }).count(), 1, 'the reply appears once (stream and response deduplicated)');
  assert.match(await agent.locator('.msg-agent .msg-role').first().textContent(), /Adviser/, 'the role is in words');
});

test("the resident sees the agent's reply in the widget", { timeout: 30_000 }, async () => {
  const stored = await storedConversation(resident);
  const transcript = await residentApi('GET', `/${stored.id}`, stored.token);
  assert.ok(transcript.data.messages.some((m) => m.role === 'agent' && m.text === REPLY), 'the reply is in the resident API transcript');
  await resident.locator('.ha-msg--agent', { hasText: REPLY }).waitFor({ timeout: 15_000 });
});

test("the agent sees the resident's reply live", { timeout: 30_000 }, async () => {
  const text = 'Thank you, my bin was not collected on Tuesday';
  await resident.locator('.ha-input').fill(text);
  await resident.locator('.ha-input').press('Enter');
  await agent.locator('.msg-resident', { hasText: text }).waitFor({ timeout: 10_000 });
  assert.equal(await agent.locator('.msg-resident', { hasText: text }).count(), 1);
});

test('axe finds no violations with a conversation open; focus is visible; targets are big enough', { timeout: 60_000 }, async () => {
  const log = agent.locator('#transcript');
  assert.equal(await log.getAttribute('role'), 'log');
  assert.equal(await log.getAttribute('aria-live'), 'polite');

  const result = await new AxeBuilder({ page: agent }).withTags(TAGS).analyze();
  const report = result.violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n` +
    v.nodes.map((n) => `    ${JSON.stringify(n.target)} ${n.failureSummary}`).join('\n'));
  assert.deepEqual(report, [], `axe violations:\n${report.join('\n')}`);
  assert.ok(result.passes.length > 10, 'axe ran its rules');

  // Keyboard: every stop along the Tab order, from the skip link on, shows a focus outline.
  await agent.locator('.skip').focus();
  const seen = [];
  for (let i = 0; i < 80; i++) {
    await agent.keyboard.press('Tab');
    const f = await agent.evaluate(() => {
      const el = document.activeElement;
      const cs = getComputedStyle(el);
      return { name: `${el.tagName.toLowerCase()}#${el.id}.${el.className}`, outline: cs.outlineStyle, width: parseFloat(cs.outlineWidth) };
    });
    if (f.name.startsWith('body')) break;
    assert.ok(f.outline !== 'none' && f.width >= 2, `visible focus on ${f.name}: ${f.outline} ${f.width}px`);
    seen.push(f.name);
  }
  assert.ok(seen.some((n) => n.includes('q-item')) && seen.some((n) => n.includes('#reply')), `Tab reaches the queue and the reply box: ${seen.join(', ')}`);

  // Targets of at least 24 by 24 CSS pixels.
  const small = await agent.evaluate(() => [...document.querySelectorAll('button, select, input, textarea, .col a')]
    .filter((el) => el.checkVisibility())
    .map((el) => [el, el.getBoundingClientRect()])
    .filter(([, r]) => r.width < 24 || r.height < 24)
    .map(([el, r]) => `${el.tagName}#${el.id} "${el.textContent.trim().slice(0, 20)}" ${r.width}x${r.height}`));
  assert.deepEqual(small, []);
});

test('a new conversation is announced; a resident message with HTML is shown as text', { timeout: 60_000 }, async () => {
  const created = await residentApi('POST', '', undefined, {});
  assert.equal(created.status, 201);
  const { id, token } = created.data;
  assert.equal((await residentApi('POST', `/${id}/messages`, token, { text: 'I want to talk to a person' })).data.state, 'queued');
  assert.equal((await residentApi('POST', `/${id}/messages`, token, { text: XSS })).status, 200);

  // Announced politely, and the title flashes.
  await until(async () => /^\(\d+\) New conversation/.test(await agent.title()), 'the title to flash');
  await until(async () => /New conversation waiting/.test(await agent.locator('#announcer').textContent()), 'the announcement');
  assert.equal(await agent.locator('#announcer').getAttribute('aria-live'), 'polite');

  const item = agent.locator(`.q-item[data-conv="${id}"]`);
  await item.waitFor({ timeout: 10_000 });
  assert.ok((await item.textContent()).includes(XSS), 'the queue shows the text literally');
  // Live updates are held back from here on, so Alex's view goes stale for the claim race below.
  await agent.route('**/events*', (route) => route.abort());
  await item.focus(); // by keyboard: Enter opens it and focus moves to the conversation
  await agent.keyboard.press('Enter');
  await until(async () => (await agent.evaluate(() => document.activeElement.id)) === 'conversation-heading', 'focus on the conversation heading');
  await agent.locator('.msg-resident', { hasText: XSS }).waitFor();
  assert.ok((await agent.locator('#details').textContent()).includes(XSS), 'the details show it literally');
  assert.equal(await agent.evaluate(() => document.querySelectorAll('img').length), 0, 'no element was made from it');
  assert.equal(await agent.evaluate(() => window.__xss), undefined, 'no script ran');

  // A claim race: Sam takes it while Alex's view is stale.
  await agent.getByRole('button', { name: 'Claim' }).waitFor();
  const sam = await fetch(`${server.url}/api/v1/agent/conversations/${id}/claim`, {
    method: 'POST', headers: { authorization: `Bearer ${SAM}` },
  });
  assert.equal(sam.status, 200);
  await agent.getByRole('button', { name: 'Claim' }).click();
  await until(async () => /Another agent has taken this conversation/.test(await agent.locator('#conv-alert').textContent()),
    'the already-claimed message');

  // The stream comes back after=<last id seen>; nothing is shown twice.
  const resumed = [];
  agent.on('request', (r) => { if (r.url().includes('/events?')) resumed.push(new URL(r.url()).searchParams.get('after')); });
  const lastId = await agent.evaluate(() => Math.max(...[...document.querySelectorAll('#transcript .msg')].map((m) => Number(m.dataset.id))));
  await agent.unroute('**/events*');
  await until(() => resumed.includes(String(lastId)), `a reconnect with after=${lastId}`);
  await until(async () => /With Sam/.test(await agent.locator('#conv-status').textContent()), 'the live status after reconnecting');
  const ids = await agent.evaluate(() => [...document.querySelectorAll('#transcript .msg')].map((m) => m.dataset.id));
  assert.equal(new Set(ids).size, ids.length, `no message shown twice: ${ids}`);
});

test('a busy service shows a notice and the console retries', { timeout: 30_000 }, async () => {
  let refused = 0;
  await agent.route('**/api/v1/agent/queue', (route) => {
    if (refused++ === 0) {
      return route.fulfill({ status: 503, headers: { 'Retry-After': '1', 'content-type': 'application/json' },
        body: JSON.stringify({ error: { code: 'unavailable', message: 'Busy.' } }) });
    }
    return route.continue();
  });
  // The console reads the queue when the server says it changed: a resident joins it.
  const { id, token } = (await residentApi('POST', '', undefined, {})).data;
  assert.equal((await residentApi('POST', `/${id}/messages`, token, { text: 'I want to talk to a person' })).data.state, 'queued');
  await until(async () => /busy\. Trying again in 1 second/.test(await agent.locator('#notice').textContent()), 'the busy notice');
  await agent.locator('#notice').waitFor({ state: 'hidden', timeout: 10_000 });
  assert.ok(refused >= 2, 'the queue was asked again');
  await agent.unroute('**/api/v1/agent/queue');
});

test('messages left out of hours are listed and marked done by keyboard; sign out forgets the token', { timeout: 120_000 }, async () => {
  // A message for the team is taken only while it is closed: a second server whose teams are
  // all closed today (closures on the days around now, whatever the time zone).
  const days = [-1, 0, 1].map((d) => new Date(Date.now() + d * 86_400_000).toISOString().slice(0, 10));
  const closed = await startServer({ env: { HA_AGENTS: `Alex:agent:${sha256(ALEX)}`, HA_CLOSURES: days.join(',') } });
  const desk = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
  desk.on('pageerror', (e) => pageErrors.push(e.message));
  try {
    const created = await residentApi('POST', '', undefined, {}, closed.url);
    const { id, token } = created.data;
    const left = await residentApi('POST', `/${id}/offline-message`, token,
      { name: 'Sam <b>Jones</b>', contact: 'sam@example.org', question: 'A pothole on Hitchin Road' }, closed.url);
    assert.equal(left.status, 201, JSON.stringify(left.data));
    await desk.goto(closed.url + '/agent');
    await signIn(desk, ALEX);
    await until(async () => (await desk.locator('#agent-name').textContent()) === 'Alex', 'signed in as Alex');

    // The tabs follow the ARIA pattern: arrow keys move between them.
    await desk.locator('#tab-conversation').focus();
    await desk.keyboard.press('ArrowRight');
    assert.equal(await desk.locator('#tab-offline').getAttribute('aria-selected'), 'true');
    assert.equal(await desk.evaluate(() => document.activeElement.id), 'tab-offline');
    const item = desk.locator('.offline-item', { hasText: 'A pothole on Hitchin Road' });
    await item.waitFor({ timeout: 10_000 });
    assert.equal(await item.locator('h3').textContent(), 'Sam <b>Jones</b>', 'the name is shown as text');
    assert.match(await desk.locator('#tab-offline').textContent(), /\(1\)/);

    await item.getByRole('button', { name: /Mark the message from .* done/ }).focus();
    await desk.keyboard.press('Enter');
    await item.waitFor({ state: 'detached' });
    await desk.locator('#offline-empty').waitFor();
    const list = await (await fetch(`${closed.url}/api/v1/agent/offline-messages`, { headers: { authorization: `Bearer ${ALEX}` } })).json();
    assert.deepEqual(list.messages, [], 'removed on the server once handled, with the contact details');

    await desk.getByRole('button', { name: 'Sign out' }).click();
    await desk.locator('#signin').waitFor();
    assert.equal(await desk.locator('#console').isVisible(), false);
    assert.equal(await desk.evaluate(() => sessionStorage.getItem('herts-assistant-agent:token')), null);
    assert.deepEqual(pageErrors, []);
  } finally {
    await desk.context().close();
    await closed.stop();
  }
});
