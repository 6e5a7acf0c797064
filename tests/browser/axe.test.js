// 3. axe-core finds no WCAG 2.0/2.1/2.2 A and AA violations, page and widget together
// (axe reads into the open shadow root), in four states.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AxeBuilder } from '@axe-core/playwright';
import { withServerAndBrowser, openWidget, ask, w, QUESTION, widgetContrast } from './helpers.js';

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const started = withServerAndBrowser();

async function assertNoViolations(page, state) {
  const result = await new AxeBuilder({ page }).withTags(TAGS).analyze();
  const report = result.violations.map((v) =>
    `${v.id} (${v.impact}): ${v.help}\n` + v.nodes.map((n) => `    ${JSON.stringify(n.target)} ${n.failureSummary}`).join('\n'));
  assert.deepEqual(report, [], `axe violations ${state}:\n${report.join('\n')}`);
  // axe leaves undecided the contrast of text over the fixed panel when different host-page
  // elements lie underneath its lines; measure the widget's own text directly instead.
  const low = await widgetContrast(page);
  assert.deepEqual(low, [], `widget text below 4.5:1 ${state}`);
  assert.ok(result.passes.length > 10, 'axe ran its rules');
}

async function newPage(viewport) {
  const context = await started.browser.newContext({ viewport });
  const page = await context.newPage();
  await page.goto(started.server.url + '/');
  return page;
}

test('axe: panel open with the welcome', async () => {
  const page = await newPage({ width: 1280, height: 800 });
  await assertNoViolations(page, 'with the panel closed');
  await openWidget(page);
  await assertNoViolations(page, 'with the panel open');
  await page.context().close();
});

test('axe: with messages, an answer, links, feedback and quick replies', async () => {
  const page = await newPage({ width: 1280, height: 800 });
  await openWidget(page);
  await ask(page, QUESTION);
  await page.locator('.ha-typing').waitFor({ state: 'hidden' });
  await assertNoViolations(page, 'with messages');
  await page.context().close();
});

test('axe: in the error state', async () => {
  const page = await newPage({ width: 1280, height: 800 });
  await openWidget(page);
  // The network fails (no response is substituted): the widget shows its error and Retry.
  await page.route('**/api/v1/conversations/*/messages', (route) => route.abort('connectionrefused'));
  await w.input(page).fill(QUESTION);
  await w.input(page).press('Enter');
  await page.locator('.ha-retry').waitFor();
  await assertNoViolations(page, 'in the error state');
  await page.context().close();
});

test('axe: at 320 px wide (reflow), panel full screen', async () => {
  const page = await newPage({ width: 320, height: 640 });
  await openWidget(page);
  await ask(page, QUESTION);
  await page.locator('.ha-typing').waitFor({ state: 'hidden' });
  const box = await w.panel(page).boundingBox();
  assert.deepEqual([box.x, box.y, box.width, box.height], [0, 0, 320, 640], 'full-screen panel under 480 px');
  const overflow = await page.evaluate(() => {
    const root = document.querySelector('herts-assistant').shadowRoot;
    return [...root.querySelectorAll('.ha-panel *')].filter((el) => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && (r.right > 320.5 || r.left < -0.5);
    }).map((el) => el.className || el.tagName);
  });
  assert.deepEqual(overflow, [], 'nothing sticks out sideways at 320 px');
  await assertNoViolations(page, 'at 320 px');
  await page.context().close();
});

test('400% zoom (1280x800 at 4x is 320x200): everything reachable by scrolling', async () => {
  const page = await newPage({ width: 320, height: 200 });
  await openWidget(page);
  await ask(page, QUESTION);
  for (const sel of ['.ha-input', '.ha-send', '.ha-person', '.ha-privacy a', '.ha-head-btn']) {
    const el = page.locator(sel);
    await el.scrollIntoViewIfNeeded();
    assert.ok(await el.isVisible(), `${sel} visible`);
    const b = await el.boundingBox();
    assert.ok(b.x >= 0 && b.x + b.width <= 320.5, `${sel} fits the width`);
  }
  await page.context().close();
});
