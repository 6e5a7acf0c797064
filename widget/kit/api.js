/*! herts-assistant toolkit: calling the service. Every answer becomes one shape,
 * { status, ok, retryAfter, data }, with status 0 when the service could not be reached, so
 * callers decide on numbers, not on exceptions. */

// `method` `url` with a JSON `body` (or none) and the bearer `token` (or none); given up after
// `timeoutMs` when set.
export function request(method, url, body, token, timeoutMs) {
  var headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = 'Bearer ' + token;
  var ctrl = timeoutMs && window.AbortController ? new AbortController() : null;
  var timer = ctrl && setTimeout(function () { ctrl.abort(); }, timeoutMs);
  return fetch(url, {
    method: method, headers: headers, credentials: 'omit', cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body), signal: ctrl ? ctrl.signal : undefined
  }).then(function (res) {
    var out = { status: res.status, ok: res.ok, retryAfter: res.headers.get('Retry-After'), data: null };
    if (res.status === 204) return out;
    return res.json().then(function (d) { out.data = d; return out; }, function () { return out; });
  }, function () {
    return { status: 0, ok: false, retryAfter: null, data: null }; // unreachable, refused or timed out
  }).then(function (out) { if (timer) clearTimeout(timer); return out; });
}
