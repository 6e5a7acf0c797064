// 5. The service goes away mid-conversation and comes back: the widget shows a clear error
// with Retry, keeps the unsent text, and Retry delivers it. State lives in Redis, so the
// restarted server still knows the conversation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer, launchBrowser, openWidget, ask, storedConversation, until, w, QUESTION } from './helpers.js';

const REDIS_URL = process.env.HA_TEST_REDIS_URL || 'redis://127.0.0.1:6379';
const env = { HA_REDIS_URL: REDIS_URL, HA_REDIS_PREFIX: `ha-browser-${process.pid}-${Date.now()}:` };
let server, browser;

function redisReachable() {
  const { hostname, port } = new URL(REDIS_URL);
  return new Promise((resolve) => {
    const s = net.connect(Number(port) || 6379, hostname, () => { s.end(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

before(async () => {
  assert.ok(await redisReachable(), `this test needs Redis at ${REDIS_URL}`);
  server = await startServer({ env });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Start again on the same port; the old socket may linger a moment after a kill. */
async function restart(port) {
  for (let i = 0; ; i++) {
    try {
      return await startServer({ port, env });
    } catch (e) {
      if (i >= 20) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

test('service down: error with Retry, then Retry delivers the kept message', async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(server.url + '/');
  await openWidget(page);
  await ask(page, QUESTION);
  const conv = await storedConversation(page);
  const residentBefore = await page.locator('.ha-msg--resident').count();

  // The server dies.
  const port = server.port;
  await server.stop();
  const text = 'what are the opening times';
  await w.input(page).fill(text);
  await w.input(page).press('Enter');
  await w.error(page).waitFor({ state: 'visible' });
  const retry = page.locator('.ha-retry');
  assert.ok(await retry.isVisible(), 'a Retry button');
  const message = await page.locator('.ha-error-text').textContent();
  assert.match(message, /can.t reach/i);
  assert.ok(message.includes(text), 'the error names the unsent message');
  assert.equal(await page.locator('.ha-msg--resident').count(), residentBefore, 'nothing pretends to be sent');
  assert.equal(await page.locator('.ha-alerts').getAttribute('role'), 'alert');
  assert.ok(await page.locator('.ha-typing').isHidden(), 'no typing indicator while failed');

  // Retry while still down: still the error, nothing lost.
  await retry.click();
  await until(async () => await page.locator('.ha-typing').isHidden() && await retry.isVisible(), 'the error again');

  // The server comes back on the same port with the same Redis prefix.
  server = await restart(port);
  await retry.click();
  await until(async () => (await page.locator('.ha-msg--resident').count()) === residentBefore + 1, 'the kept message delivered');
  assert.equal((await page.locator('.ha-msg--resident').last().textContent()).includes(text), true);
  await until(async () => !(await w.messages(page).last().getAttribute('class')).includes('resident'), 'its answer');
  assert.ok(await w.error(page).isHidden(), 'the error clears');
  assert.equal((await storedConversation(page)).id, conv.id, 'the same conversation, kept in Redis');

  // And the restarted server has the whole transcript.
  const res = await fetch(`${server.url}/api/v1/conversations/${conv.id}`, { headers: { Authorization: `Bearer ${conv.token}` } });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.messages.filter((m) => m.role === 'resident').length, residentBefore + 1);
  assert.deepEqual(errors, []);

  // Clean up: erase the conversation (its keys also expire by TTL).
  await fetch(`${server.url}/api/v1/conversations/${conv.id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${conv.token}` } });
});
