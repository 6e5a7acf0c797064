// 6. Screenshots of the open widget with a short conversation, for people to look at:
// test-artifacts/screenshots/ at the repository root.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, launchBrowser, openWidget, ask, repoRoot, QUESTION } from './helpers.js';

const dir = path.join(repoRoot, 'test-artifacts', 'screenshots');
let server, browser;
before(async () => {
  fs.mkdirSync(dir, { recursive: true });
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

for (const [name, viewport, scale] of [
  ['desktop', { width: 1280, height: 800 }, 1],
  ['mobile', { width: 375, height: 740 }, 2],
]) {
  test(`screenshot at ${name} size (${viewport.width}x${viewport.height})`, async () => {
    const context = await browser.newContext({ viewport, deviceScaleFactor: scale, reducedMotion: 'reduce', isMobile: name === 'mobile', hasTouch: name === 'mobile' });
    const page = await context.newPage();
    await page.goto(server.url + '/');
    await openWidget(page);
    await ask(page, QUESTION);
    await page.locator('.ha-typing').waitFor({ state: 'hidden' });
    // What the picture must show: the whole panel on screen, the question and the start of the
    // answer with its link drawn (not covered), and the input. The file is kept for people.
    const shown = await page.evaluate(() => {
      const root = document.querySelector('herts-assistant').shadowRoot;
      const visible = (el) => {
        if (!el) return false;
        const r = el.getBoundingClientRect();
        const x = r.left + Math.min(8, r.width / 2), y = r.top + Math.min(8, r.height / 2);
        const hit = root.elementFromPoint(x, y);
        return r.width > 0 && y >= 0 && y < innerHeight && !!hit && (hit === el || el.contains(hit));
      };
      const panel = root.querySelector('.ha-panel').getBoundingClientRect();
      return {
        panelOnScreen: panel.left >= 0 && panel.top >= 0 && panel.right <= innerWidth + 0.5 && panel.bottom <= innerHeight + 0.5,
        question: visible([...root.querySelectorAll('.ha-msg--resident .ha-bubble')].pop()),
        answer: visible([...root.querySelectorAll('.ha-msg--bot .ha-bubble')].pop()),
        link: [...root.querySelectorAll('.ha-msg--bot a[href^="https:"]')].some(visible),
        input: visible(root.querySelector('.ha-input')),
      };
    });
    assert.deepEqual(shown, { panelOnScreen: true, question: true, answer: true, link: true, input: true });
    const file = path.join(dir, `widget-${name}.png`);
    await page.screenshot({ path: file });
    assert.ok(fs.statSync(file).size > 10_000, `${file} was written`);
    await context.close();
  });
}
