/*! herts-assistant toolkit: what the two consoles (agent and editor) share beyond what the
 * widget uses too: their retrying, signing-out calls and small page helpers. The widget carries
 * none of this, to stay small on residents' pages. */
import { request } from './api.js';

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

// Says `text` through a polite live region: emptied first, so the same words are read again.
export function announceIn(region, text) {
  region.textContent = '';
  setTimeout(function () { region.textContent = text; }, 50);
}

// An answer as plain words: [text](target) -> text, **bold** -> bold.
export function plainWords(text) {
  return String(text || '').replace(/\[([^\]\n]+)\]\([^()\s]*\)/g, '$1').replace(/\*\*(.+?)\*\*/g, '$1');
}

// The stable error code of a refused request (see the API's error table), if any.
export function errorCode(res) { return res.data && res.data.error && res.data.error.code; }

// How long to wait before trying again: the server's Retry-After (at most a minute), else 2 s.
export function retryMs(res) {
  var s = parseInt(res.retryAfter, 10);
  return (s > 0 ? Math.min(s, 60) : 2) * 1000;
}

export function wait(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

// What went wrong, in words for staff.
export function problem(res) {
  if (res.status === 0) return 'The service cannot be reached. Check the connection and try again.';
  if (res.status === 429 || res.status === 503) return 'The service is busy. Please try again in a moment.';
  var e = res.data && res.data.error;
  return (e && e.message) || 'Something went wrong (' + res.status + '). Please try again.';
}

// A console's `api(method, path, body)`: sends the signed-in token (`options.token()`) to
// `options.base` + path. A refused token signs out (`options.signOut(words)`); a busy service,
// or for reads an unreachable one, is tried again up to three times, saying so through
// `options.notice(words)`, which is emptied once the service answers. With
// `options.dropStale`, an answer to a token since signed out or changed comes back as
// { status: -1, stale: true }, for pages that must not show one person's data to another.
export function staffApi(options) {
  var api = function (method, path, body, attempt) {
    attempt = attempt || 0;
    var sentWith = options.token();
    return request(method, options.base + path, body, sentWith).then(function (res) {
      if (options.dropStale && sentWith !== options.token()) return { status: -1, ok: false, data: null, stale: true };
      if (res.status === 401 && options.token()) {
        options.signOut('Your sign-in is no longer accepted. Please sign in again.');
        return res;
      }
      var busy = res.status === 429 || res.status === 503 || (res.status === 0 && method === 'GET');
      if (busy && attempt < 3 && options.token()) {
        var ms = retryMs(res);
        options.notice((res.status === 0 ? 'The service cannot be reached.' : 'The service is busy.') +
          ' Trying again in ' + (ms / 1000) + (ms === 1000 ? ' second' : ' seconds') + '\u2026');
        return wait(ms).then(function () { return api(method, path, body, attempt + 1); });
      }
      options.notice(res.status === 0 || res.status >= 500 || res.status === 429 ? problem(res) : '');
      return res;
    });
  };
  return api;
}
