// The widget handed to a person, against the real server: the queue line, an agent (driven
// through the agent HTTP API from Node) claims, types and replies; the reply is text, never
// markup; the resident's typing and reply reach the agent; a reload restores everything and
// the stream resumes; a dropped stream reconnects without losing or repeating a message;
// leaving the queue. Then, with every team closed, the message form and its errors. axe-core
// with the queue line and with the form showing.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { AxeBuilder } from '@axe-core/playwright';
import { startServer, launchBrowser, until, openWidget, storedConversation, transcript, w, repoRoot, widgetContrast } from './helpers.js';

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const TOKEN = randomBytes(24).toString('hex');
const sha256 = (t) => createHash('sha256').update(t).digest('hex');
const PERSON = 'I want to talk to a person';
const XSS_TEXT = "Hello, I'm Alex <img src=x onerror=window.__xss=1>";

const shots = path.join(repoRoot, 'test-artifacts', 'screenshots');
let browser;
before(async () => {
  fs.mkdirSync(shots, { recursive: true });
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); });

/** A fresh page on the demo page, with page errors collected. */
async function newPage(server, viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  await page.goto(server.url + '/');
  return page;
}

/** Type into the widget and send (no reply is awaited: a person may be holding it). */
async function say(page, text) {
  await w.input(page).fill(text);
  await w.input(page).press('Enter');
}

const stateLine = (page) => page.locator('.ha-state');
const text = async (loc) => ((await loc.textContent()) || '').trim();

/** Every rendered message id is shown once. */
async function assertNoDuplicates(page) {
  const ids = await page.locator('.ha-msg[data-id]').evaluateAll((ms) => ms.map((m) => m.dataset.id).filter(Boolean));
  assert.equal(new Set(ids).size, ids.length, `no message twice: ${ids.join(',')}`);
  const sorted = [...ids].sort((a, b) => a - b);
  assert.deepEqual(ids, sorted, 'messages in id order');
}

async function assertAccessible(page, what) {
  const result = await new AxeBuilder({ page }).withTags(TAGS).analyze();
  const report = result.violations.map((v) =>
    `${v.id} (${v.impact}): ${v.help}\n` + v.nodes.map((n) => `    ${JSON.stringify(n.target)} ${n.failureSummary}`).join('\n'));
  assert.deepEqual(report, [], `axe violations ${what}:\n${report.join('\n')}`);
  assert.ok(result.passes.length > 10, 'axe ran its rules');
  // The widget's own text against its nearest opaque background (axe cannot always decide
  // over the fixed panel), and the size of every control.
  const problems = (await widgetContrast(page)).map((p) => `contrast ${p}`);
  problems.push(...await page.evaluate(() => {
    const root = document.querySelector('herts-assistant').shadowRoot;
    const bad = [];
    for (const c of root.querySelectorAll('.ha-panel button, .ha-panel input, .ha-panel textarea')) {
      if (!c.checkVisibility()) continue;
      const r = c.getBoundingClientRect();
      if (r.width < 24 || r.height < 24) bad.push(`target ${c.className || c.tagName} ${r.width}x${r.height}`);
    }
    return bad;
  }));
  assert.deepEqual(problems, [], `widget contrast and target sizes ${what}`);
}

describe('a person takes over (teams open, agent Alex)', () => {
  let server;
  before(async () => {
    server = await startServer({ env: { HA_TEAMS_ALWAYS_OPEN: '1', HA_AGENTS: `Alex:agent:${sha256(TOKEN)}` } });
  });
  after(async () => { await server?.stop(); });

  /** The agent API, straight from Node, as Alex. */
  async function agentApi(method, p, body) {
    const res = await fetch(`${server.url}/api/v1/agent${p}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const raw = await res.text();
    return { status: res.status, data: raw ? JSON.parse(raw) : null, raw };
  }
  async function agentOk(method, p, body, status = [200, 204]) {
    const res = await agentApi(method, p, body);
    assert.ok(status.includes(res.status), `${method} /api/v1/agent${p} -> ${res.status} ${res.raw}`);
    return res.data;
  }

  /** Reads the agent's event stream until a status event satisfies `check`. */
  async function agentSeesStatus(id, check, timeout = 10_000) {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), timeout);
    try {
      const res = await fetch(`${server.url}/api/v1/agent/conversations/${id}/events?after=1000000`, {
        headers: { authorization: `Bearer ${TOKEN}` }, signal: ctrl.signal,
      });
      assert.equal(res.status, 200);
      const decoder = new TextDecoder();
      let buf = '';
      for await (const chunk of res.body) {
        buf += decoder.decode(chunk, { stream: true });
        const blocks = buf.split('\n\n');
        buf = blocks.pop();
        for (const b of blocks) {
          const m = b.match(/^event: status\ndata: (.*)$/m);
          if (m && check(JSON.parse(m[1]))) return true;
        }
      }
    } catch (e) {
      if (e.name === 'AbortError') return false;
      throw e;
    } finally {
      clearTimeout(timer);
      ctrl.abort();
    }
    return false;
  }

  test('queue, claim, typing, a reply shown as text, the resident answers, reload, live again', { timeout: 90_000 }, async () => {
    const page = await newPage(server);
    await openWidget(page);
    await say(page, PERSON);
    await until(async () => (await text(stateLine(page))).includes('number 1'), 'the queue line');
    assert.match(await text(stateLine(page)),
      /^You are number 1 in the queue for Customer service\. Estimated wait: about \d+ minutes?\.$/);
    assert.ok(await page.getByRole('button', { name: 'Leave the queue' }).isVisible(), 'Leave the queue is offered');
    assert.ok(await page.locator('.ha-person').isHidden(), '"Talk to a person" is gone while queued');
    await page.locator('.ha-typing').waitFor({ state: 'hidden' });
    await assertAccessible(page, 'with the queue line');

    const { id } = await until(() => storedConversation(page), 'the stored conversation');
    await agentOk('POST', `/conversations/${id}/claim`);
    await until(async () => (await text(stateLine(page))) === 'You are chatting with Alex.', '"You are chatting with Alex"');
    // Nothing calls a person "automated" while they chat.
    assert.equal(await text(page.locator('.ha-heading p')), 'Chatting with a member of staff');
    assert.match(await text(page.locator('.ha-privacy > span')), /^A member of council staff/);
    assert.ok(await page.getByRole('button', { name: 'Leave the queue' }).isHidden(), 'no Leave the queue once claimed');
    await page.locator('.ha-msg--system', { hasText: 'Alex has joined the conversation.' }).waitFor();

    await agentOk('POST', `/conversations/${id}/typing`, { typing: true });
    const typing = page.locator('.ha-agent-typing');
    await until(async () => (await text(typing)) === 'Alex is typing\u2026', '"Alex is typing…"');
    assert.equal(await typing.getAttribute('aria-live'), 'polite');

    await agentOk('POST', `/conversations/${id}/messages`, { text: XSS_TEXT });
    const reply = page.locator('.ha-msg--agent').last();
    await until(async () => (await reply.count()) && (await reply.locator('.ha-bubble').textContent()).includes(XSS_TEXT), 'the agent reply, as text');
    assert.equal(await page.locator('img').count(), 0, 'no img element anywhere (shadow root pierced)');
    assert.equal(await page.evaluate(() => window.__xss), undefined, 'nothing ran');
    assert.equal(await text(reply.locator('.ha-from')), 'Alex, council adviser');
    assert.equal(await text(reply.locator('.ha-sr')), 'Alex:');
    await until(async () => (await text(typing)) === '', 'the typing line cleared by the reply');
    await page.screenshot({ path: path.join(shots, 'widget-agent-desktop.png') });

    // The resident types (the agent is told) and answers; the agent reads it.
    // Typing lasts 4 s on the server, and a stream's first status says who is typing, so the
    // agent sees it however the two race.
    const watching = agentSeesStatus(id, (s) => s.resident_typing === true);
    await w.input(page).fill('My bin was not collected');
    assert.ok(await watching, 'the agent sees the resident typing');
    await w.input(page).press('Enter');
    await until(async () => (await agentOk('GET', `/conversations/${id}`)).messages
      .some((m) => m.role === 'resident' && m.text === 'My bin was not collected'), 'the agent to see the reply');
    await page.locator('.ha-msg--resident', { hasText: 'My bin was not collected' }).waitFor();
    assert.ok(await agentSeesStatus(id, (s) => s.resident_typing === false), 'typing false after sending');
    await assertNoDuplicates(page);
    const before = await transcript(page);

    // Reload: the transcript and the agent are back, and the stream resumes.
    await page.reload();
    await openWidget(page);
    await until(async () => (await transcript(page)).length === before.length, 'the restored transcript');
    assert.deepEqual(await transcript(page), before);
    await until(async () => (await text(stateLine(page))) === 'You are chatting with Alex.', '"chatting with Alex" after the reload');
    await agentOk('POST', `/conversations/${id}/messages`, { text: 'Thanks, I have reported it for you.' });
    await page.locator('.ha-msg--agent', { hasText: 'Thanks, I have reported it for you.' }).waitFor({ timeout: 10_000 });
    const server_ = await agentOk('GET', `/conversations/${id}`);
    await until(async () => (await page.locator('.ha-msg[data-id]').count()) >= server_.messages.length, 'every message shown');
    await assertNoDuplicates(page);
    assert.equal(await page.locator('.ha-msg[data-id]').count(), server_.messages.length, 'exactly the server transcript');
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test('a dropped stream reconnects after the last id; nothing lost or repeated; back to the assistant', { timeout: 60_000 }, async () => {
    const page = await newPage(server);
    const streams = [];
    // The first two connections fail as a dropped network would; later ones go through.
    await page.route('**/api/v1/conversations/*/events*', (route) => {
      streams.push(new URL(route.request().url()).searchParams.get('after'));
      return streams.length <= 2 ? route.abort('connectionreset') : route.fallback();
    });
    await openWidget(page);
    await say(page, PERSON);
    await until(async () => (await text(stateLine(page))).includes('number 1'), 'the queue line');
    const { id } = await until(() => storedConversation(page), 'the stored conversation');
    await agentOk('POST', `/conversations/${id}/claim`);
    await agentOk('POST', `/conversations/${id}/messages`, { text: 'First reply' });
    await agentOk('POST', `/conversations/${id}/messages`, { text: 'Second reply' });
    await page.locator('.ha-msg--agent', { hasText: 'Second reply' }).waitFor({ timeout: 15_000 });
    assert.equal(await text(stateLine(page)), 'You are chatting with Alex.');
    assert.ok(streams.length >= 3, `reconnected (${streams.length} connections)`);
    assert.ok(streams.every((a) => Number(a) > 0), `each connection resumes after the last id shown: ${streams}`);
    await assertNoDuplicates(page);
    const serverMessages = (await agentOk('GET', `/conversations/${id}`)).messages;
    assert.equal(await page.locator('.ha-msg[data-id]').count(), serverMessages.length);

    await agentOk('POST', `/conversations/${id}/return`);
    await page.locator('.ha-msg--system', { hasText: 'back with the automated assistant' }).waitFor();
    await until(async () => (await text(stateLine(page))) === '', 'the state line cleared');
    assert.ok(await page.locator('.ha-person').isVisible(), '"Talk to a person" is back');
    assert.equal((await storedConversation(page)).live, false);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test('Leave the queue returns the resident to the assistant; an erased conversation starts anew; Start again closes the stream', { timeout: 60_000 }, async () => {
    const page = await newPage(server, { width: 375, height: 740 });
    await openWidget(page);
    await say(page, PERSON);
    const leave = page.getByRole('button', { name: 'Leave the queue' });
    await leave.waitFor();
    await page.locator('.ha-typing').waitFor({ state: 'hidden' });
    await page.screenshot({ path: path.join(shots, 'widget-queued-mobile.png') });
    await leave.click();
    await page.locator('.ha-msg--system', { hasText: 'You have left the queue.' }).waitFor();
    await until(async () => (await text(stateLine(page))) === '', 'the queue line gone');
    assert.ok(await leave.isHidden());
    assert.ok(await page.locator('.ha-person').isVisible());

    // Queued, then the conversation is erased elsewhere: the stream says "gone", a new one starts.
    await say(page, PERSON);
    await until(async () => (await text(stateLine(page))).includes('in the queue'), 'queued');
    const erased = await storedConversation(page);
    const del = await fetch(`${server.url}/api/v1/conversations/${erased.id}`, {
      method: 'DELETE', headers: { authorization: `Bearer ${erased.token}` },
    });
    assert.equal(del.status, 204);
    await page.locator('.ha-msg--system', { hasText: 'a new one has started' }).waitFor({ timeout: 10_000 });
    assert.notEqual((await storedConversation(page)).id, erased.id);
    assert.equal(await text(stateLine(page)), '');

    // Queued again, then Start again: the old stream closes, a new conversation begins.
    await say(page, PERSON);
    await until(async () => (await text(stateLine(page))).includes('in the queue'), 'queued again');
    const old = await storedConversation(page);
    const closed = page.waitForEvent('requestfailed', { predicate: (r) => r.url().includes(`/${old.id}/events`), timeout: 10_000 });
    await page.getByRole('button', { name: 'Start again' }).click();
    await closed;
    await until(async () => (await storedConversation(page))?.id !== old.id, 'a new conversation');
    await until(async () => (await text(stateLine(page))) === '', 'no queue line');
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
});

describe('every team closed: leave a message', () => {
  let server, dir;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ha-live-'));
    const config = path.join(dir, 'closed.toml');
    fs.writeFileSync(config, '[[teams]]\nid = "customer-service"\nname = "Customer service"\n');
    server = await startServer({ env: { HA_CONFIG: config, HA_TEAMS_ALWAYS_OPEN: '0' } });
  });
  after(async () => {
    await server?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the form under the message: labels, errors beside it, values kept, then thank you', { timeout: 60_000 }, async () => {
    const page = await newPage(server);
    await openWidget(page);
    await say(page, PERSON);
    const form = page.locator('.ha-offline');
    await form.waitFor();
    await page.locator('.ha-typing').waitFor({ state: 'hidden' });
    const name = page.getByLabel('Your name', { exact: true });
    const contact = page.getByLabel('How we can contact you (email or phone)', { exact: true });
    const question = page.getByLabel('Your question', { exact: true });
    for (const f of [name, contact, question]) assert.ok(await f.isVisible());
    assert.match(await text(page.locator('.ha-msg--bot').last().locator('.ha-bubble')), /closed/);
    assert.equal(await text(stateLine(page)), '', 'no queue line: nobody is waiting');
    await assertAccessible(page, 'with the offline form');

    // Nothing typed: the first missing field is named and focused.
    await form.getByRole('button', { name: 'Send' }).click();
    const err = form.locator('.ha-form-err');
    assert.equal(await text(err), 'Please give your name.');
    assert.equal(await name.getAttribute('aria-invalid'), 'true');
    assert.equal(await page.evaluate(() => document.querySelector('herts-assistant').shadowRoot.activeElement.name), 'name');
    await assertAccessible(page, 'with an error in the form');

    // The server refuses (a name over 200 characters, past the field's own limit): its message
    // is shown beside the form and what was typed stays.
    await name.evaluate((i) => i.removeAttribute('maxlength'));
    const long = 'A'.repeat(201);
    await name.fill(long);
    await contact.fill('resident@example.org');
    await question.fill('When does the <b>tip</b> open?');
    await form.getByRole('button', { name: 'Send' }).click();
    await until(async () => (await text(err)).includes('longer than 200'), 'the server error beside the form');
    assert.equal(await name.inputValue(), long);
    assert.equal(await question.inputValue(), 'When does the <b>tip</b> open?');
    assert.equal(await name.getAttribute('aria-invalid'), 'true');

    await name.fill('Sam Resident');
    await form.getByRole('button', { name: 'Send' }).click();
    await page.locator('.ha-msg--system', { hasText: 'Thank you. Your message has been passed to our Customer service team.' }).waitFor();
    assert.equal(await form.count(), 0, 'the form has gone');
    assert.equal(await page.locator('b').count(), 0);

    // After a reload the form does not come back for a message already left.
    await page.reload();
    await openWidget(page);
    await page.locator('.ha-msg--system', { hasText: 'Thank you.' }).waitFor();
    assert.equal(await page.locator('.ha-offline').count(), 0);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test('the form at 320 px: reflow, nothing sideways', { timeout: 60_000 }, async () => {
    const page = await newPage(server, { width: 320, height: 640 });
    await openWidget(page);
    await say(page, PERSON);
    await page.locator('.ha-offline').waitFor();
    await page.locator('.ha-typing').waitFor({ state: 'hidden' });
    const overflow = await page.evaluate(() => [...document.querySelector('herts-assistant').shadowRoot
      .querySelectorAll('.ha-panel *')].filter((el) => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && (r.right > 320.5 || r.left < -0.5);
    }).map((el) => el.className || el.tagName));
    assert.deepEqual(overflow, [], 'nothing sticks out sideways at 320 px');
    await assertAccessible(page, 'with the form at 320 px');
    await page.locator('.ha-offline').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(shots, 'widget-offline-form-320.png') });
    await page.context().close();
  });
});
