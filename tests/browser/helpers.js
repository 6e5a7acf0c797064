// Shared helpers for the widget's browser tests: the real server binary, real Chromium.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../..');
export const serverBin = path.resolve(here, process.env.HA_BIN || '../../target/debug/herts-assistant');
export const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
export const QUESTION = 'where is my nearest recycling centre';

/** Start the real server; resolves once it prints `listening on http://HOST:PORT`.
 *  `port` 0 means a random port; `env` adds to the environment (e.g. Redis settings). */
export function startServer({ port = 0, env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(serverBin, [], {
      cwd: repoRoot,
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn', ...env, HA_LISTEN: `127.0.0.1:${port}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => fail(new Error('server did not print its listening line within 60 s')), 60_000);
    const fail = (e) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${e.message}\n--- server stdout ---\n${out}\n--- server stderr ---\n${err.slice(-4000)}`));
    };
    child.on('error', fail);
    child.on('exit', (code, signal) => {
      if (!server) fail(new Error(`server exited early (code ${code}, signal ${signal})`));
    });
    child.stderr.on('data', (d) => {
      err += d;
      if (process.env.TEST_LOG) process.stderr.write(d);
    });
    let server = null;
    child.stdout.on('data', (d) => {
      out += d;
      if (process.env.TEST_LOG) process.stderr.write(d);
      const m = !server && out.match(/listening on (http:\/\/[^\s]+)/);
      if (m) {
        clearTimeout(timer);
        const url = m[1].replace(/\/+$/, '');
        server = {
          url,
          port: Number(new URL(url).port),
          child,
          /** Kill the process and wait until it has gone. */
          stop: () => new Promise((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGKILL');
          }),
        };
        resolve(server);
      }
    });
  });
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Wait until `check()` returns a truthy value (polled), or fail with `what`. */
export async function until(check, what, timeout = 15_000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// --- the widget, seen from the page (Playwright's CSS locators pierce the open shadow root) ---

export const w = {
  launcher: (page) => page.locator('.ha-launcher'),
  panel: (page) => page.locator('.ha-panel'),
  input: (page) => page.locator('.ha-input'),
  messages: (page) => page.locator('.ha-msg'),
  error: (page) => page.locator('.ha-error'),
};

/** The element focused inside the widget's shadow root, described for assertions. */
export function focused(page) {
  return page.evaluate(() => {
    const host = document.querySelector('herts-assistant');
    const el = host && host.shadowRoot.activeElement;
    if (!el) return { where: document.activeElement === host ? 'host' : 'page', text: '' };
    const cs = getComputedStyle(el);
    return {
      where: 'widget',
      cls: el.className,
      text: el.textContent.trim(),
      outline: `${cs.outlineStyle} ${cs.outlineWidth}`,
      outlineWidth: parseFloat(cs.outlineWidth),
    };
  });
}

/** Press Tab (or Shift+Tab) until the focused widget element matches `selector`. */
export async function tabTo(page, selector, { back = false, max = 60, text } = {}) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    const hit = await page.evaluate(([sel, t]) => {
      const el = document.querySelector('herts-assistant')?.shadowRoot.activeElement;
      return !!el && el.matches(sel) && (!t || el.textContent.trim() === t);
    }, [selector, text]);
    if (hit) return;
  }
  throw new Error(`could not Tab to ${selector}${text ? ` "${text}"` : ''}`);
}

/** Texts of the rendered messages, in order. */
export function transcript(page) {
  return page.locator('.ha-msg .ha-bubble').allTextContents();
}

/** The conversation the widget keeps in sessionStorage. */
export async function storedConversation(page) {
  return page.evaluate(() => {
    for (let i = 0; i < sessionStorage.length; i++) {
      const k = sessionStorage.key(i);
      if (k.startsWith('herts-assistant:')) return JSON.parse(sessionStorage.getItem(k));
    }
    return null;
  });
}

/** Open the widget from the launcher and wait for the welcome message. */
export async function openWidget(page) {
  await w.launcher(page).click();
  await w.panel(page).waitFor({ state: 'visible' });
  await page.locator('.ha-msg--bot').first().waitFor();
  // Let the panel's opening animation finish (it fades in) before anyone measures colours.
  await page.evaluate(() => Promise.all(document.querySelector('herts-assistant').shadowRoot
    .querySelector('.ha-panel').getAnimations({ subtree: true }).filter((a) => a.effect?.getTiming().iterations !== Infinity)
    .map((a) => a.finished)));
}

/** Send `text` and wait for the bot's answer to it. Returns the number of messages after. */
export async function ask(page, text) {
  const before = await w.messages(page).count();
  await w.input(page).fill(text);
  await w.input(page).press('Enter');
  return until(async () => {
    const n = await w.messages(page).count();
    const last = w.messages(page).last();
    return n >= before + 2 && !(await last.getAttribute('class')).includes('ha-msg--resident') && n;
  }, `an answer to "${text}"`);
}

/** Every visible text in the widget against its nearest opaque background inside the
 *  shadow root: the ratios below 4.5:1 (3:1 for large text), as strings. */
export function widgetContrast(page) {
  return page.evaluate(() => {
    const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => {
      const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const root = document.querySelector('herts-assistant').shadowRoot;
    const bad = [];
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let t = walker.nextNode(); t; t = walker.nextNode()) {
      const el = t.parentElement;
      if (!t.textContent.trim() || !el.checkVisibility() || el.closest('.ha-sr, :disabled')) continue;
      const r = el.getBoundingClientRect();
      if (r.width < 2) continue;
      const cs = getComputedStyle(el);
      let bg = null;
      for (let a = el; a && !bg; a = a.parentElement) {
        const c = rgb(getComputedStyle(a).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3] === 1)) bg = c.slice(0, 3);
      }
      bg = bg || [255, 255, 255];
      const [l1, l2] = [lum(rgb(cs.color).slice(0, 3)), lum(bg)].sort((a, b) => b - a);
      const ratio = (l1 + 0.05) / (l2 + 0.05);
      const size = parseFloat(cs.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) bad.push(`${el.className || el.tagName} "${t.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}:1`);
    }
    return bad;
  });
}

/** Starts the service and Chromium before a file's tests and stops both after them. The
 * returned object's `server` and `browser` are set by the time the tests run. */
export function withServerAndBrowser(options) {
  const started = {};
  before(async () => {
    started.server = await startServer(options);
    started.browser = await launchBrowser();
  });
  after(async () => {
    await started.browser?.close();
    await started.server?.stop();
  });
  return started;
}

/** Builds the engine once with the server binary (`ask`), so that servers started after it find
 *  the matchers' work in the shared cache (`.cache`) and print their listening line quickly.
 *  Content or binary changes otherwise make the first start train for minutes. */
export function warmCache({ env = {}, timeout = 900_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(serverBin, ['ask', 'hello'], {
      cwd: repoRoot,
      env: { ...process.env, RUST_LOG: 'warn', HA_LOG: 'warn', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('warming the cache took too long')); }, timeout);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`ask exited with ${code}\n${err.slice(-2000)}`));
    });
  });
}
