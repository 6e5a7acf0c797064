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
    const file = path.join(dir, `widget-${name}.png`);
    await page.screenshot({ path: file });
    assert.ok(fs.statSync(file).size > 10_000, `${file} was written`);
    await context.close();
  });
}
