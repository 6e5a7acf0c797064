// 1. The resident's journey with a mouse: open, ask, answer with a link, quick reply,
// feedback, reload keeps the transcript, "Start again" erases and begins anew.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServerAndBrowser, openWidget, ask, transcript, storedConversation, until, focused, w, QUESTION } from './helpers.js';

const started = withServerAndBrowser();

test('the resident journey', async () => {
  const page = await started.browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(started.server.url + '/');

  // Open: a dialog, focus in the input, a welcome that says it is automated.
  assert.equal(await w.launcher(page).getAttribute('aria-expanded'), 'false');
  await openWidget(page);
  assert.equal(await w.launcher(page).getAttribute('aria-expanded'), 'true');
  assert.equal(await w.panel(page).getAttribute('role'), 'dialog');
  assert.equal((await focused(page)).cls, 'ha-input');
  const welcome = (await transcript(page)).join(' ');
  assert.match(welcome, /automated|assistant/i, 'the welcome says it is an automated assistant');
  assert.ok(await page.locator('.ha-person').isVisible(), '"Talk to a person" is visible');
  const privacy = page.locator('.ha-privacy a');
  // The notice on what the assistant keeps is served by the service itself.
  const notice = await privacy.getAttribute('href');
  assert.equal(notice, started.server.url + '/privacy');
  const noticePage = await fetch(notice);
  assert.equal(noticePage.status, 200);
  assert.match(await noticePage.text(), /How the online assistant uses your information[\s\S]*How long we keep it/);

  // Ask: the answer carries a link.
  await ask(page, QUESTION);
  const resident = page.locator('.ha-msg--resident').last();
  assert.match(await resident.textContent(), /nearest recycling centre/);
  const answer = page.locator('.ha-msg--bot').last();
  await until(async () => (await answer.locator('a[href^="https:"]').count()) > 0, 'a link in the answer');

  // A quick reply goes back as a message whose text is its label.
  const chip = page.locator('.ha-chip').first();
  const label = (await chip.textContent()).trim();
  const sent = page.waitForRequest((r) => r.url().endsWith('/messages') && r.method() === 'POST');
  await chip.click();
  assert.deepEqual(JSON.parse((await sent).postData()), { text: label });
  await until(async () => (await page.locator('.ha-msg--resident').last().textContent()).includes(label), 'the quick reply in the transcript');
  await until(async () => !(await page.locator('.ha-msg').last().getAttribute('class')).includes('resident'), 'the reply to the quick reply');

  // Feedback on an answer.
  const yes = page.locator('.ha-feedback button', { hasText: 'Yes' }).first();
  await yes.waitFor();
  const fb = page.waitForResponse((r) => r.url().endsWith('/feedback'));
  await yes.click();
  const fbResponse = await fb;
  assert.equal(fbResponse.status(), 204);
  assert.equal(typeof JSON.parse(fbResponse.request().postData()).message_id, 'string');
  await page.locator('.ha-thanks', { hasText: 'Thank you for your feedback' }).waitFor();

  // Reload: the transcript comes back from the server.
  const before = await transcript(page);
  const stored = await storedConversation(page);
  assert.ok(stored?.id && stored?.token, 'id and token are in sessionStorage');
  await page.reload();
  await openWidget(page);
  await until(async () => (await transcript(page)).length === before.length, 'the restored transcript');
  assert.deepEqual(await transcript(page), before);
  assert.equal((await storedConversation(page)).id, stored.id);

  // Start again: a new conversation; the old one is erased on the server.
  await page.locator('.ha-head-btn', { hasText: 'Start again' }).click();
  const fresh = await until(async () => {
    const c = await storedConversation(page);
    return c && c.id !== stored.id && c;
  }, 'a new conversation id');
  await until(async () => (await page.locator('.ha-msg--resident').count()) === 0 && (await w.messages(page).count()) >= 1, 'only the welcome');
  const old = await fetch(`${started.server.url}/api/v1/conversations/${stored.id}`, { headers: { Authorization: `Bearer ${stored.token}` } });
  assert.equal(old.status, 404, 'the erased conversation is gone');
  const now = await fetch(`${started.server.url}/api/v1/conversations/${fresh.id}`, { headers: { Authorization: `Bearer ${fresh.token}` } });
  assert.equal(now.status, 200);

  // Close with the close button: focus goes back to the launcher.
  await page.locator('.ha-icon-btn[aria-label="Close chat"]').click();
  assert.ok(await w.panel(page).isHidden());
  assert.equal((await focused(page)).cls, 'ha-launcher');
  assert.deepEqual(errors, []);
});

test('loading the script twice makes one widget', async () => {
  const page = await started.browser.newPage();
  await page.goto(started.server.url + '/');
  // addScriptTag resolves once the second copy has run: it returns at once, so no wait is needed.
  await page.addScriptTag({ url: started.server.url + '/widget.js' });
  assert.equal(await page.locator('herts-assistant').count(), 1);
  assert.deepEqual(Object.keys(await page.evaluate(() => window.HertsAssistant)).sort(), ['close', 'open', 'toggle']);
  await page.evaluate(() => window.HertsAssistant.open());
  await w.panel(page).waitFor({ state: 'visible' });
  await page.evaluate(() => window.HertsAssistant.toggle());
  assert.ok(await w.panel(page).isHidden());
});
