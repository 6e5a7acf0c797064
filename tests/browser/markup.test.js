// The Markdown subset as the browser draws it: every case in tests/fixtures/markup.json, the
// file the Rust tests read too (src/markup.rs checks which of them `check` refuses), drawn by
// the toolkit module the widget and both consoles use, served by the real server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { withServerAndBrowser, repoRoot, openWidget, until, w } from './helpers.js';

const cases = JSON.parse(fs.readFileSync(path.join(repoRoot, 'tests/fixtures/markup.json'), 'utf8'));
const started = withServerAndBrowser();

test('the toolkit draws each shared case as the fixture says', async () => {
  const page = await started.browser.newPage();
  await page.goto(started.server.url + '/privacy');
  const drawn = await page.evaluate(async (texts) => {
    const markup = await import('/kit/markup.js');
    return texts.map((text) => {
      const box = document.createElement('div');
      box.appendChild(markup.renderText(text));
      return box.innerHTML;
    });
  }, cases.map((c) => c.text));
  cases.forEach((c, i) => assert.equal(drawn[i], c.drawn, c.what));
  await page.close();
});

test('the widget draws each shared case the same way, under its own class', async () => {
  const page = await started.browser.newPage();
  await page.goto(started.server.url + '/');
  await openWidget(page);
  // Shipped content holds only the subset, so each case arrives as a bot message added to the
  // real server's reply (as in xss.test.js): the one substitution in this file.
  await page.route('**/api/v1/conversations/*/messages', async (route) => {
    const response = await route.fetch();
    const json = await response.json();
    cases.forEach((c, i) => json.messages.push({ id: `case-${i}`, role: 'bot', text: c.text, at: new Date().toISOString(), answer: false }));
    await route.fulfill({ response, json });
  });
  await w.input(page).fill('hello');
  await w.input(page).press('Enter');
  await until(async () => (await page.locator('.ha-msg[data-id^="case-"]').count()) === cases.length, 'the cases drawn');
  const drawn = await page.locator('.ha-msg[data-id^="case-"] .ha-bubble').evaluateAll((bubbles) =>
    bubbles.map((b) => { const copy = b.cloneNode(true); copy.firstChild.remove(); return copy.innerHTML; })); // less "Assistant: "
  cases.forEach((c, i) => assert.equal(drawn[i], c.drawn.replaceAll('class="sr"', 'class="ha-sr"'), c.what));
  await page.close();
});
