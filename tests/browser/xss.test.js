// 4. What residents type, and what comes back, is text: never markup, never script.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServerAndBrowser, openWidget, until, w } from './helpers.js';

const HTML_PAYLOAD = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
const LINK_PAYLOAD = '[x](javascript:window.__xss=3)';
const started = withServerAndBrowser();

/** Elements in the shadow root that should never be there, and every link's href. */
function inspect(page) {
  return page.evaluate(() => {
    const root = document.querySelector('herts-assistant').shadowRoot;
    return {
      xss: window.__xss,
      dangerous: [...root.querySelectorAll('img, script, iframe, object, embed, b, [onerror], [onclick]')].map((e) => e.outerHTML),
      // Links drawn from message text (the privacy link comes from the page's own settings).
      hrefs: [...root.querySelectorAll('.ha-msg a')].map((a) => a.getAttribute('href')),
    };
  });
}

async function sendAndWait(page, text) {
  const n = await page.locator('.ha-msg--resident').count();
  await w.input(page).fill(text);
  await w.input(page).press('Enter');
  await until(async () => (await page.locator('.ha-msg--resident').count()) > n &&
    !(await w.messages(page).last().getAttribute('class')).includes('resident'), `the reply to ${text}`);
}

test('a resident message carrying HTML and a javascript: link renders as text', async () => {
  const page = await started.browser.newPage();
  await page.goto(started.server.url + '/');
  await openWidget(page);

  await sendAndWait(page, HTML_PAYLOAD);
  assert.equal(await page.locator('.ha-msg--resident .ha-bubble p').last().textContent(), HTML_PAYLOAD);
  await sendAndWait(page, LINK_PAYLOAD);
  assert.equal(await page.locator('.ha-msg--resident .ha-bubble p').last().textContent(), LINK_PAYLOAD);

  await page.waitForTimeout(300); // give any injected handler the chance to run
  const seen = await inspect(page);
  assert.equal(seen.xss, undefined, 'no script ran');
  assert.deepEqual(seen.dangerous, []);
  for (const href of seen.hrefs) assert.match(href, /^(https:|tel:|mailto:)/, `safe link ${href}`);

  // After a reload the same transcript, from the server, is still only text.
  await page.reload();
  await openWidget(page);
  await until(async () => (await page.locator('.ha-msg--resident').count()) === 2, 'the restored transcript');
  const again = await inspect(page);
  assert.equal(again.xss, undefined);
  assert.deepEqual(again.dangerous, []);
});

test('a bot message whose text holds HTML renders it as literal text', async () => {
  const page = await started.browser.newPage();
  await page.goto(started.server.url + '/');
  await openWidget(page);
  // The one place in these tests where a response is substituted: shipped content holds no
  // HTML, so to show what the widget does with HTML arriving from the API we take the real
  // server's answer and add a bot message carrying markup, a javascript: link in the Markdown
  // and a javascript: url in `links`.
  const evil = 'Before <b>bold?</b> <img src=x onerror="window.__xss=4"> [y](javascript:window.__xss=5) **ok** after';
  await page.route('**/api/v1/conversations/*/messages', async (route) => {
    const response = await route.fetch();
    const json = await response.json();
    json.messages.push({
      id: 'substituted-1', role: 'bot', text: evil, quick_replies: ['<i>chip</i>'],
      links: [{ title: '<b>bad</b>', url: 'javascript:window.__xss=6' }, { title: 'Good', url: 'https://www.hertfordshire.gov.uk/' }],
      at: new Date().toISOString(), answer: false,
    });
    await route.fulfill({ response, json });
  });
  await sendAndWait(page, 'hello');
  const bubble = page.locator('.ha-msg[data-id="substituted-1"] .ha-bubble p');
  assert.equal(await bubble.textContent(), 'Before <b>bold?</b> <img src=x onerror="window.__xss=4"> [y](javascript:window.__xss=5) ok after');
  assert.equal(await bubble.locator('strong').textContent(), 'ok', 'the Markdown subset still works');
  assert.equal(await page.locator('.ha-msg[data-id="substituted-1"] .ha-chip').textContent(), '<i>chip</i>');
  assert.deepEqual(await page.locator('.ha-msg[data-id="substituted-1"] .ha-links a').evaluateAll((as) => as.map((a) => a.getAttribute('href'))),
    ['https://www.hertfordshire.gov.uk/'], 'the javascript: link is dropped');
  await page.waitForTimeout(300);
  const seen = await inspect(page);
  assert.equal(seen.xss, undefined, 'no script ran');
  assert.deepEqual(seen.dangerous, []);
  for (const href of seen.hrefs) assert.match(href, /^(https:|tel:|mailto:)/);
});

test('the demo page and the agent console run under their Content-Security-Policy with no violation', async () => {
  for (const path of ['/', '/agent']) {
    const page = await started.browser.newPage();
    const violations = [];
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) violations.push(m.text()); });
    await page.addInitScript(() => {
      window.__violations = [];
      document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    const response = await page.goto(started.server.url + path);
    assert.match(response.headers()['content-security-policy'], /script-src 'self'/);
    if (path === '/') {
      await openWidget(page);
      await sendAndWait(page, 'where is my nearest recycling centre');
      // The page's own stylesheet applied (it is no longer inline).
      assert.equal(await page.evaluate(() => getComputedStyle(document.body).margin), '0px');
    } else {
      await page.locator('input[type=password], input').first().waitFor();
    }
    const seen = await page.evaluate(() => window.__violations);
    assert.deepEqual([...seen, ...violations], [], `${path}: CSP violations`);
    await page.close();
  }
});
