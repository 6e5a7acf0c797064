// 2. The same journey by keyboard only: Tab, Shift+Tab, Enter and Escape. No clicks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServerAndBrowser, transcript, storedConversation, until, focused, tabTo, w, QUESTION } from './helpers.js';

const started = withServerAndBrowser();

/** The focused element shows a visible focus outline. */
async function assertFocusVisible(page) {
  const f = await focused(page);
  assert.equal(f.where, 'widget');
  assert.ok(f.outlineWidth >= 2 && !f.outline.startsWith('none'), `visible focus on ${f.cls}: ${f.outline}`);
}

test('the journey by keyboard only', async () => {
  const page = await started.browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(started.server.url + '/');

  // Tab through the host page to the launcher; Enter opens; focus lands in the input.
  await tabTo(page, '.ha-launcher', { max: 40 });
  await assertFocusVisible(page);
  await page.keyboard.press('Enter');
  await w.panel(page).waitFor({ state: 'visible' });
  assert.equal((await focused(page)).cls, 'ha-input');
  await page.locator('.ha-msg--bot').first().waitFor();

  // Escape closes and focus returns to the launcher; Enter opens again.
  await page.keyboard.press('Escape');
  assert.ok(await w.panel(page).isHidden());
  assert.equal((await focused(page)).cls, 'ha-launcher');
  await page.keyboard.press('Enter');
  assert.equal((await focused(page)).cls, 'ha-input');

  // Type and send with Enter.
  await page.keyboard.type(QUESTION);
  await page.keyboard.press('Enter');
  await until(async () => (await page.locator('.ha-msg--resident').count()) === 1 &&
    !(await w.messages(page).last().getAttribute('class')).includes('resident'), 'the answer');
  await until(async () => (await page.locator('.ha-msg--bot').last().locator('a[href^="https:"]').count()) > 0, 'a link in the answer');

  // A quick reply, reached backwards from the input.
  await tabTo(page, '.ha-chip', { back: true });
  await assertFocusVisible(page);
  const label = (await focused(page)).text;
  await page.keyboard.press('Enter');
  await until(async () => (await page.locator('.ha-msg--resident').last().textContent()).includes(label), 'the quick reply sent');
  await until(async () => !(await w.messages(page).last().getAttribute('class')).includes('resident'), 'its answer');
  assert.equal((await focused(page)).cls, 'ha-input', 'focus goes back to the input after a quick reply');

  // Feedback: Yes by keyboard; the thanks takes focus.
  await tabTo(page, '.ha-feedback button', { back: true, text: 'Yes' });
  await assertFocusVisible(page);
  await page.keyboard.press('Enter');
  await page.locator('.ha-thanks').waitFor();
  assert.equal((await focused(page)).cls, 'ha-thanks');

  // The privacy link is reachable forwards from the input.
  await page.locator('.ha-input').focus();
  await tabTo(page, '.ha-privacy a');
  await assertFocusVisible(page);

  // Reload: reopen by keyboard, the transcript is restored.
  const before = await transcript(page);
  await page.reload();
  await tabTo(page, '.ha-launcher', { max: 40 });
  await page.keyboard.press('Enter');
  await until(async () => (await transcript(page)).length === before.length, 'the restored transcript');
  assert.deepEqual(await transcript(page), before);

  // Start again by keyboard.
  const old = await storedConversation(page);
  await tabTo(page, '.ha-head-btn', { back: true, text: 'Start again' });
  await assertFocusVisible(page);
  await page.keyboard.press('Enter');
  await until(async () => (await storedConversation(page))?.id !== old.id, 'a new conversation');
  await until(async () => (await page.locator('.ha-msg--resident').count()) === 0, 'an empty transcript');
  assert.equal((await focused(page)).cls, 'ha-input');

  // "Talk to a person" by keyboard.
  await tabTo(page, '.ha-person', { back: true });
  await page.keyboard.press('Enter');
  await until(async () => (await page.locator('.ha-msg--resident').last().textContent().catch(() => '')).includes('Talk to a person'), 'the request for a person');

  // Escape from anywhere in the panel closes it; focus back on the launcher.
  await page.keyboard.press('Escape');
  assert.ok(await w.panel(page).isHidden());
  assert.equal((await focused(page)).cls, 'ha-launcher');
});
