/*! herts-assistant toolkit: reading server-sent events over fetch (EventSource cannot send
 * the Authorization header the conversation and console streams need). */

// Reads `res`'s body until it ends, passing each event to `onEvent` while `current()` says
// this stream is still the one wanted. Resolves when the stream ends.
export function readEvents(res, current, onEvent) {
  var reader = res.body.getReader(), decoder = new TextDecoder(), buf = '';
  var pump = function () {
    return reader.read().then(function (r) {
      if (r.done || !current()) return;
      buf += decoder.decode(r.value, { stream: true }).replace(/\r\n?/g, '\n');
      var cut;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        var event = parseEvent(buf.slice(0, cut));
        buf = buf.slice(cut + 2);
        if (event && current()) onEvent(event);
      }
      return pump();
    });
  };
  return pump();
}

// One event block -> { type, id, data } with `data` parsed as JSON; null for a comment-only
// block (keepalives) or data that is not JSON.
export function parseEvent(block) {
  var type = 'message', id = '', data = [], parsed;
  block.split('\n').forEach(function (line) {
    if (!line || line.charAt(0) === ':') return;
    var i = line.indexOf(':');
    var field = i < 0 ? line : line.slice(0, i), value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
    if (field === 'event') type = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  });
  if (!data.length) return null;
  try { parsed = JSON.parse(data.join('\n')); } catch (e) { return null; }
  return { type: type, id: id, data: parsed };
}

// Opens the event stream at `url` for the bearer `token`; `signal` closes it.
export function openEvents(url, token, signal) {
  return fetch(url, {
    headers: { Accept: 'text/event-stream', Authorization: 'Bearer ' + token },
    credentials: 'omit', cache: 'no-store', signal: signal
  });
}
