// WCAG 2.2 focus and zoom: focus never lands on a page control the open panel hides, Escape
// closes the panel from anywhere, and at 200% and 400% zoom the new answer and the input are
// in view after Enter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServerAndBrowser, openWidget, ask, w, QUESTION } from './helpers.js';

const started = withServerAndBrowser();

async function newPage(viewport) {
  const context = await started.browser.newContext({ viewport });
  const page = await context.newPage();
  await page.goto(started.server.url + '/');
  return page;
}

/** Where focus is: inside the widget, or a page control and whether the open panel covers any
 *  of it. */
function whereFocus(page) {
  return page.evaluate(() => {
    const host = document.querySelector('herts-assistant');
    const panel = host.shadowRoot.querySelector('.ha-panel');
    const el = document.activeElement;
    if (el === host) return { inWidget: true, open: !panel.hidden, cls: host.shadowRoot.activeElement?.className };
    if (!el || el === document.body) return { inWidget: false, open: !panel.hidden, covered: false, name: 'body' };
    const a = el.getBoundingClientRect();
    const b = panel.getBoundingClientRect();
    const covered = !panel.hidden && a.width > 0 &&
      a.left < b.right && a.right > b.left && a.top < b.bottom && a.bottom > b.top;
    return { inWidget: false, open: !panel.hidden, covered, name: el.textContent.trim().slice(0, 40) };
  });
}

for (const [width, height] of [[320, 568], [375, 667]]) {
  test(`at ${width}x${height} the open panel is modal: Tab and Shift+Tab stay inside it`, async () => {
    const page = await newPage({ width, height });
    await openWidget(page);
    assert.equal(await w.panel(page).getAttribute('aria-modal'), 'true');
    const seen = new Set();
    for (const key of ['Tab', 'Shift+Tab']) {
      for (let i = 0; i < 25; i++) {
        await page.keyboard.press(key);
        const f = await whereFocus(page);
        assert.ok(f.open, 'the panel stays open');
        assert.ok(f.inWidget, `${key} #${i + 1} left the panel for "${f.name}"`);
        seen.add(f.cls);
      }
    }
    assert.ok(seen.has('ha-input') && seen.has('ha-icon-btn'), `Tab walked the panel: ${[...seen]}`);
    // The page behind cannot be reached or read while the panel covers it; closing gives it back.
    assert.ok(await page.evaluate(() => document.querySelector('main').closest('[inert]') !== null));
    await page.keyboard.press('Escape');
    assert.ok(await w.panel(page).isHidden());
    assert.equal(await w.panel(page).getAttribute('aria-modal'), null);
    assert.equal(await page.evaluate(() => document.querySelectorAll('[inert]').length), 0);
    await page.context().close();
  });
}

test('at 1280x800 focus never rests on a page control the open panel covers', async () => {
  const page = await newPage({ width: 1280, height: 800 });
  await openWidget(page);
  assert.equal(await w.panel(page).getAttribute('aria-modal'), null, 'beside the page, not modal');
  let left = 0;
  for (const key of ['Tab', 'Shift+Tab']) {
    await w.input(page).focus();
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press(key);
      const f = await whereFocus(page);
      assert.ok(!f.covered, `${key} #${i + 1}: "${f.name}" is behind the open panel`);
      if (!f.inWidget) left++;
      if (!f.open) break; // minimised because the next control was under it
    }
    // Reopen for the other direction.
    if (await w.panel(page).isHidden()) await w.launcher(page).click();
  }
  assert.ok(left > 0, 'Tab reached the page');
  await page.context().close();
});

test('Escape closes the panel with focus on the page beside it', async () => {
  const page = await newPage({ width: 1280, height: 800 });
  await openWidget(page);
  await page.locator('.crumbs a').first().focus(); // left of the panel, not covered
  assert.ok(await w.panel(page).isVisible());
  assert.equal((await whereFocus(page)).inWidget, false);
  await page.keyboard.press('Escape');
  assert.ok(await w.panel(page).isHidden());
  assert.equal(await w.launcher(page).getAttribute('aria-expanded'), 'false');
  await page.context().close();
});

// 1280x800 at 200% is 640x400 CSS pixels; at 400% it is 320x200.
for (const [zoom, width, height] of [['200%', 640, 400], ['400%', 320, 200]]) {
  test(`at ${zoom} zoom the new answer's start and the input are in view after Enter`, async () => {
    const page = await newPage({ width, height });
    await openWidget(page);
    for (const question of [QUESTION, 'how do I apply for a blue badge']) {
      await ask(page, question);
      const view = await page.evaluate(() => {
        const root = document.querySelector('herts-assistant').shadowRoot;
        const msgs = [...root.querySelectorAll('.ha-msg')];
        const asked = msgs.filter((m) => m.classList.contains('ha-msg--resident')).pop();
        const answer = msgs[msgs.indexOf(asked) + 1].querySelector('.ha-bubble');
        const input = root.querySelector('.ha-input');
        const shown = (el) => { // the element's point is what is drawn there, not covered
          const r = el.getBoundingClientRect();
          const x = r.left + Math.min(10, r.width / 2);
          const y = r.top + Math.min(10, r.height / 2);
          const hit = root.elementFromPoint(x, y);
          return y >= 0 && y < innerHeight && x >= 0 && x < innerWidth && !!hit && (hit === el || el.contains(hit));
        };
        return { answer: shown(answer), input: shown(input), focused: root.activeElement === input };
      });
      assert.ok(view.answer, `"${question}": the start of the answer is in view`);
      assert.ok(view.input, `"${question}": the input is in view`);
      assert.ok(view.focused, 'the input keeps focus');
    }
    await page.context().close();
  });
}
