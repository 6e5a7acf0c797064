/*! herts-assistant resident chat widget. Plain JS, one file on any council's page: the server
 * puts the shared toolkit's modules (widget/kit/) in at the @toolkit line below.
 * Embed: <script src="https://HOST/widget.js" defer data-service="https://HOST"
 *                 data-title="Ask Hertfordshire"></script>
 * Public API: window.HertsAssistant = { open, close, toggle }.
 * Every piece of message text reaches the page through textContent: never innerHTML.
 * Handed to a person, the widget reads the conversation's event stream (fetch + ReadableStream,
 * since EventSource cannot send the token) and resumes it after the last message id shown. */
(function () {
  'use strict';
  if (window.HertsAssistant) return; // loaded twice: the first copy wins

  var script = document.currentScript ||
    document.querySelector('script[src$="/widget.js"],script[src="widget.js"]');
  var scriptUrl = new URL(script && script.src ? script.src : '/widget.js', location.href);
  var base = ((script && script.getAttribute('data-service')) || scriptUrl.origin).replace(/\/+$/, '');
  var title = (script && script.getAttribute('data-title')) || 'Ask Hertfordshire';
  var STORE_KEY = 'herts-assistant:' + base;
  // The service's own notice on what the assistant keeps; a council may point to its own page.
  var PRIVACY_URL = (script && script.getAttribute('data-privacy')) || '';
  if (!/^https?:\/\//i.test(PRIVACY_URL)) PRIVACY_URL = base + '/privacy';
  var TIMEOUT_MS = 15000;
  // Who the resident is talking to, in the header and the privacy line: never "automated"
  // while a person holds the conversation.
  var WHO = { bot: 'Automated assistant', queued: 'Waiting for a member of staff', agent: 'Chatting with a member of staff', closed: 'Conversation ended' };
  var PRIVACY_TEXT = {
    bot: 'An automated assistant: please don\u2019t share bank details or passwords.',
    person: 'A member of council staff: please don\u2019t share bank details or passwords.'
  };
  var ROLE_LABEL = { resident: 'You said', bot: 'Assistant', agent: 'Council adviser', system: 'Notice' };
  var STATE_TEXT = {
    queued: 'A member of staff will reply here as soon as one is free. Please keep this window open.',
    agent: 'You are talking to a member of staff. They will reply here.',
    closed: 'This conversation has ended. Choose \u201cStart again\u201d to ask something else.'
  };

  var ui = {};            // elements, filled by build()
  var conv = null;        // { id, token, feedback: [message ids] }
  var loaded = false;     // transcript shown for conv
  var busy = false;       // a request is in flight
  var retryAction = null; // what Retry does
  var state = 'bot';
  var queue = null;       // { position, wait_minutes, team_name } while queued
  var stream = null;      // the one open event stream: { id, ctrl }
  var streamFails = 0;    // failed connections in a row, for the reconnect delay
  var typedAt = 0;        // when the resident's typing was last told to the agent
  var FIELDS = [ // the message left when the team is closed: name, label, element, autocomplete, max
    ['name', 'Your name', 'input', 'name', 200],
    ['contact', 'How we can contact you (email or phone)', 'input', 'off', 200],
    ['question', 'Your question', 'textarea', 'off', 2000]];
  var MISSING = { name: 'Please give your name.', contact: 'Please tell us how we can contact you.', question: 'Please type your question.' };

  // @toolkit kit/dom.js kit/markup.js kit/api.js kit/events.js
  // (el; safeUrl, link, renderText, plainText; request; readEvents, parseEvent, openEvents:
  // no name below may repeat one of theirs)

  // ---------- small DOM helpers ----------
  function srOnly(text) { return el('span', { class: 'ha-sr', text: text }); }
  function icon(path) {
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    var p = document.createElementNS(ns, 'path');
    p.setAttribute('d', path);
    svg.appendChild(p);
    return svg;
  }

  // ---------- storage (sessionStorage may be unavailable) ----------
  function loadConv() {
    try { var c = JSON.parse(sessionStorage.getItem(STORE_KEY)); if (c && c.id && c.token) return c; } catch (e) { /* none */ }
    return null;
  }
  function saveConv() {
    try { if (conv) sessionStorage.setItem(STORE_KEY, JSON.stringify(conv)); else sessionStorage.removeItem(STORE_KEY); } catch (e) { /* private mode */ }
  }

  // ---------- drawing: the Markdown subset is kit/markup.js's, with the widget's own class ----------
  function drawAnswer(text) { return renderText(text, 'ha-sr'); }
  function drawTyped(text, links) { return plainText(text, links, 'ha-sr'); }
  function pageLink(text, url) { return link(text, url, 'ha-sr'); }
  function agentName() { return (conv && conv.agent) || ''; }

  // ---------- rendering ----------
  // One message -> one element. Extend here for new roles or message parts.
  function renderMessage(msg) {
    var role = ROLE_LABEL[msg.role] ? msg.role : 'system';
    var item = el('div', { class: 'ha-msg ha-msg--' + role, 'data-id': msg.id || '' });
    var who = role === 'agent' && agentName() ? agentName() : ROLE_LABEL[role];
    var bubble = el('div', { class: 'ha-bubble' }, [srOnly(who + ': ')]);
    if (role === 'agent') item.appendChild(el('p', { class: 'ha-from', 'aria-hidden': 'true', text: agentName() ? who + ', council adviser' : who }));
    bubble.appendChild(role === 'resident' || role === 'agent' ? drawTyped(msg.text, role === 'agent') : drawAnswer(msg.text));
    item.appendChild(bubble);
    var links = (msg.links || []).filter(function (l) { return l && safeUrl(String(l.url)); });
    if (links.length) {
      var ul = el('ul', { class: 'ha-links' });
      links.forEach(function (l) { ul.appendChild(el('li', null, [pageLink(String(l.title || l.url), String(l.url))])); });
      item.appendChild(ul);
    }
    if (role === 'bot' && msg.answer && msg.id && conv && (conv.feedback || []).indexOf(msg.id) < 0) {
      item.appendChild(renderFeedback(msg.id));
    }
    if (msg.quick_replies && msg.quick_replies.length) {
      var group = el('div', { class: 'ha-quick', role: 'group', 'aria-label': 'Suggested replies' });
      msg.quick_replies.forEach(function (label) {
        var b = el('button', { type: 'button', class: 'ha-chip', text: String(label) });
        b.addEventListener('click', function () { send(String(label)); ui.input.focus(); });
        group.appendChild(b);
      });
      item.appendChild(group);
    }
    if (role === 'bot' && msg.form === 'offline_message' && conv && (conv.left || []).indexOf(msg.id) < 0) {
      item.appendChild(renderOffline(msg.id));
    }
    return item;
  }
  // The team is closed: a short form whose message the team answers later.
  function renderOffline(messageId) {
    var key = 'ha-of' + String(messageId).replace(/\W/g, '') + '-', inputs = {};
    var form = el('form', { class: 'ha-offline', 'aria-label': 'Leave a message for the team', novalidate: '' });
    FIELDS.forEach(function (f) {
      var input = inputs[f[0]] = el(f[2], { id: key + f[0], name: f[0], class: 'ha-field', autocomplete: f[3], maxlength: f[4] });
      if (f[2] === 'input') input.type = 'text'; else input.rows = 3;
      form.appendChild(el('div', { class: 'ha-row' }, [el('label', { for: key + f[0], text: f[1] }), input]));
    });
    var err = el('p', { class: 'ha-form-err', id: key + 'err', role: 'alert' });
    var btn = el('button', { type: 'submit', class: 'ha-send', text: 'Send' });
    form.appendChild(err);
    form.appendChild(btn);
    function fail(text, field) {
      err.textContent = text;
      FIELDS.forEach(function (f) { inputs[f[0]].removeAttribute('aria-invalid'); inputs[f[0]].removeAttribute('aria-describedby'); });
      if (field) { field.setAttribute('aria-invalid', 'true'); field.setAttribute('aria-describedby', err.id); field.focus(); }
    }
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (btn.disabled) return;
      var body = {};
      FIELDS.forEach(function (f) { body[f[0]] = inputs[f[0]].value.trim(); });
      var missing = FIELDS.filter(function (f) { return !body[f[0]]; })[0];
      if (missing) return fail(MISSING[missing[0]], inputs[missing[0]]);
      btn.disabled = true;
      api('POST', '/' + encodeURIComponent(conv.id) + '/offline-message', body).then(function (res) {
        btn.disabled = false;
        if (res.ok && res.data) {
          conv.left = (conv.left || []).concat(messageId);
          saveConv();
          form.remove();
          appendMessages(res.data.messages || []);
          ui.input.focus();
          return;
        }
        var m = !gone(res) && res.status < 500 && res.data && res.data.error && /\b(name|contact|question)\b/.exec(res.data.error.message);
        fail(gone(res) ? STATE_TEXT.closed : problem(res), m ? inputs[m[1]] : null);
      });
    });
    return form;
  }
  function renderFeedback(messageId) {
    var box = el('div', { class: 'ha-feedback', role: 'group', 'aria-label': 'Was this helpful?' });
    box.appendChild(el('span', { class: 'ha-feedback-q', text: 'Was this helpful?' }));
    [['Yes', true], ['No', false]].forEach(function (pair) {
      var b = el('button', { type: 'button', class: 'ha-small', text: pair[0] });
      b.addEventListener('click', function () { sendFeedback(messageId, pair[1], box); });
      box.appendChild(b);
    });
    return box;
  }
  function each(sel, fn) { Array.prototype.forEach.call(ui.log.querySelectorAll(sel), fn); }
  // Messages come from replies and from the event stream, either first: each id is shown once,
  // in id order.
  function appendMessages(messages, live) {
    var node = null;
    messages.forEach(function (msg) {
      var id = +msg.id || 0, before = ui.typing;
      if (id && ui.log.querySelector('.ha-msg[data-id="' + id + '"]')) return;
      if (msg.role === 'resident') each('.ha-quick', function (q) { q.remove(); }); // the resident moved on: old suggestions go
      if (msg.form) each('.ha-offline', function (f) { f.remove(); }); // one form at a time
      if (id) each('.ha-msg[data-id]', function (m) { if (before === ui.typing && +m.getAttribute('data-id') > id) before = m; });
      node = ui.log.insertBefore(renderMessage(msg), before);
    });
    if (!live) reveal(); else if (node) reveal(node); // a live message: show it from its start
  }
  function lastId() {
    var n = 0;
    each('.ha-msg[data-id]', function (m) { n = Math.max(n, +m.getAttribute('data-id') || 0); });
    return n;
  }
  // The box that scrolls the transcript: the log, or on very short viewports (high zoom) the
  // whole panel, whose CSS then lets the log grow and keeps the form pinned at its foot.
  function scroller() { return getComputedStyle(ui.log).overflowY === 'visible' ? ui.panel : ui.log; }
  function scrollDown() { var box = scroller(); box.scrollTop = box.scrollHeight; }
  // Show the latest turn from its start: the resident's last message and the beginning of the
  // reply, rather than the end of a long answer. Short turns simply scroll to the bottom.
  function reveal(from) {
    var turn = ui.log.querySelectorAll('.ha-msg--resident');
    from = from || (turn.length ? turn[turn.length - 1] : ui.log.querySelector('.ha-msg'));
    var box = scroller();
    if (!from) return scrollDown();
    var top = box.scrollTop + from.getBoundingClientRect().top - box.getBoundingClientRect().top - 12;
    // the part of the box the pinned form does not cover
    var visible = box === ui.panel ? box.clientHeight - ui.form.offsetHeight : box.clientHeight;
    if (box.scrollHeight - top > visible) box.scrollTop = top;
    else scrollDown();
  }

  // The conversation's state: bot, queued (waiting for a person), agent (a person holds it),
  // closed. Live regions change only when their text does, so nothing is re-announced.
  function handleState(next) {
    state = next || 'bot';
    if (state !== 'queued') queue = null;
    if (state !== 'agent') agentTyping(false);
    ui.panel.setAttribute('data-state', state);
    var text = STATE_TEXT[state] || '', m = queue && queue.wait_minutes;
    if (queue) {
      text = 'You are number ' + queue.position + ' in the queue for ' + (queue.team_name || 'Customer service') +
        '. Estimated wait: about ' + m + (m === 1 ? ' minute.' : ' minutes.');
    }
    if (state === 'agent' && agentName()) text = 'You are chatting with ' + agentName() + '.';
    if (ui.state.textContent !== text) ui.state.textContent = text;
    ui.who.textContent = WHO[state] || WHO.bot;
    ui.privacy.textContent = state === 'agent' ? PRIVACY_TEXT.person : PRIVACY_TEXT.bot;
    ui.bar.classList.toggle('ha-on', !!text);
    ui.leave.hidden = state !== 'queued';
    if (ui.leave.hidden && ui.root.getRootNode().activeElement === ui.leave) ui.input.focus(); // don't drop focus
    ui.person.hidden = state !== 'bot';
    ui.input.disabled = state === 'closed';
    ui.sendBtn.disabled = state === 'closed';
    var live = state === 'queued' || state === 'agent';
    if (conv && !conv.live !== !live) { conv.live = live; saveConv(); }
    syncStream();
  }
  function agentTyping(on) {
    var text = on ? (agentName() || 'The adviser') + ' is typing\u2026' : '';
    if (ui.agentTyping.textContent !== text) ui.agentTyping.textContent = text;
  }
  function handleStatus(s) {
    if (s.agent && conv && conv.agent !== s.agent) { conv.agent = s.agent; saveConv(); }
    queue = s.queue || null;
    handleState(s.state);
    agentTyping(s.state === 'agent' && !!s.agent_typing);
  }

  // ---------- the live event stream ----------
  function syncStream() {
    var live = conv && loaded && (state === 'queued' || state === 'agent');
    if (!live) closeStream();
    else if (!stream || stream.id !== conv.id) { closeStream(); openStream(); }
  }
  function closeStream() {
    var s = stream;
    stream = null;
    if (s) s.ctrl.abort();
  }
  function openStream() {
    var ctrl = new AbortController(), me = stream = { id: conv.id, ctrl: ctrl };
    openEvents(base + '/api/v1/conversations/' + encodeURIComponent(conv.id) + '/events?after=' + lastId(), conv.token, ctrl.signal).then(function (res) {
      if (gone(res)) { me.gone = true; return; }
      if (!res.ok || !res.body) return;
      streamFails = 0;
      return readEvents(res, function () { return stream === me; }, onEvent);
    }).catch(function () { /* dropped: reconnect below */ }).then(function () {
      if (stream !== me) return; // closed on purpose
      stream = null;
      if (me.gone) return startAnew();
      setTimeout(function () { if (!stream) syncStream(); }, Math.min(1500 * Math.pow(2, streamFails++), 15000));
    });
  }
  function onEvent(event) {
    var d = event.data;
    if (event.type === 'gone') return startAnew();
    if (!d) return;
    if (event.type === 'status') return handleStatus(d);
    if (event.type !== 'message') return;
    if (!d.id) d.id = event.id;
    if (!isOpen() && d.role !== 'resident') ui.badge.hidden = false;
    appendMessages([d], true);
  }
  // The conversation was erased or has expired: begin a new one and say so.
  function startAnew() {
    closeStream();
    loaded = false;
    return startConversation().then(function (r) {
      if (r.ok) appendMessages([{ role: 'system', text: 'Your earlier conversation had ended, so a new one has started.' }]);
      else showError(problem(r), ensureLoaded);
    });
  }
  function leaveQueue() {
    if (busy) return;
    clearError();
    ui.leave.disabled = true;
    api('POST', '/' + encodeURIComponent(conv.id) + '/leave-queue').then(function (res) {
      ui.leave.disabled = false;
      if (res.ok && res.data) {
        appendMessages(res.data.messages || []);
        handleState(res.data.state);
        ui.input.focus();
      } else if (gone(res)) startAnew();
      else showError(problem(res), retryable(res) ? leaveQueue : null);
    });
  }
  function tellTyping(on) {
    if (state !== 'agent' || !conv) return;
    typedAt = on ? Date.now() : 0;
    api('POST', '/' + encodeURIComponent(conv.id) + '/typing', { typing: on });
  }

  function setBusy(on) {
    busy = on;
    ui.typing.hidden = !on;
    ui.log.setAttribute('aria-busy', on ? 'true' : 'false');
    if (on) scrollDown();
  }
  function showError(text, action) {
    retryAction = action || null;
    ui.errorText.textContent = text;
    ui.retry.hidden = !action;
    ui.error.hidden = false;
    scrollDown();
  }
  function clearError() {
    retryAction = null;
    ui.error.hidden = true;
    ui.errorText.textContent = '';
  }

  // ---------- the service ----------
  function api(method, path, body) {
    return request(method, base + '/api/v1/conversations' + path, body, conv ? conv.token : null, TIMEOUT_MS);
  }
  function gone(res) { return res.status === 404 || res.status === 401; }
  function problem(res) {
    var secs = parseInt(res.retryAfter, 10);
    var wait = secs > 0 ? ' Please try again in ' + secs + (secs === 1 ? ' second.' : ' seconds.') : ' Please try again in a moment.';
    if (res.status === 0) return 'Sorry, we can\u2019t reach the assistant right now. Check your connection and try again.';
    if (res.status === 429) return 'You\u2019re sending messages faster than we can answer.' + wait;
    if (res.status === 503) return 'The assistant is busy at the moment.' + wait;
    var e = res.data && res.data.error;
    return (e && e.message) || 'Sorry, something went wrong. Please try again.';
  }
  function retryable(res) { return res.status === 0 || res.status === 429 || res.status === 503 || res.status >= 500; }

  function startConversation() {
    conv = null;
    saveConv();
    return api('POST', '', {}).then(function (res) {
      if (!res.ok || !res.data || !res.data.id) return res;
      conv = { id: res.data.id, token: res.data.token, feedback: [] };
      saveConv();
      clearLog();
      appendMessages(res.data.messages || []);
      loaded = true;
      handleState(res.data.state);
      return res;
    });
  }
  function restore() {
    return api('GET', '/' + encodeURIComponent(conv.id)).then(function (res) {
      if (gone(res)) return startConversation();
      if (!res.ok || !res.data) return res;
      clearLog();
      var msgs = res.data.messages || [];
      var lastResident = -1;
      msgs.forEach(function (m, i) { if (m.role === 'resident') lastResident = i; });
      appendMessages(msgs.map(function (m, i) { // only suggestions after the last resident turn stay
        return i < lastResident && m.quick_replies && m.quick_replies.length ? Object.assign({}, m, { quick_replies: [] }) : m;
      }));
      loaded = true;
      handleState(res.data.state);
      return res;
    });
  }
  function ensureLoaded() {
    if (loaded || busy) return Promise.resolve();
    clearError();
    setBusy(true);
    conv = conv || loadConv();
    return (conv ? restore() : startConversation()).then(function (res) {
      setBusy(false);
      if (!res.ok) showError(problem(res), ensureLoaded);
    });
  }

  function send(text) {
    text = String(text || '').trim();
    if (!text || busy) return;
    clearError();
    setBusy(true);
    var first = loaded ? Promise.resolve({ ok: true }) : (conv = conv || loadConv()) ? restore() : startConversation();
    first.then(function (res) {
      if (!res.ok) return res;
      return post(text, true);
    }).then(function (res) {
      setBusy(false);
      if (res.ok) return;
      if (retryable(res)) {
        showError(problem(res) + ' Your message \u201c' + clip(text) + '\u201d has not been sent yet.', function () { send(text); });
      } else {
        showError(problem(res));
        if (!ui.input.value) ui.input.value = text; // let the resident change it
      }
    });
  }
  function post(text, again) {
    return api('POST', '/' + encodeURIComponent(conv.id) + '/messages', { text: text }).then(function (res) {
      if (gone(res) && again) { // erased or expired: begin anew and send it there
        return startConversation().then(function (r) {
          if (!r.ok) return r;
          appendMessages([{ role: 'system', text: 'Your earlier conversation had ended, so a new one has started.' }]);
          return post(text, false);
        });
      }
      if (res.ok && res.data) {
        appendMessages(res.data.messages || []);
        queue = res.data.queue || queue;
        handleState(res.data.state);
      }
      return res;
    });
  }
  function clip(text) { return text.length > 60 ? text.slice(0, 57) + '\u2026' : text; }

  function sendFeedback(messageId, helpful, box) {
    var buttons = box.querySelectorAll('button');
    Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
    api('POST', '/' + encodeURIComponent(conv.id) + '/feedback', { message_id: messageId, helpful: helpful }).then(function (res) {
      if (res.ok) {
        conv.feedback = (conv.feedback || []).concat(messageId);
        saveConv();
        var thanks = el('p', { class: 'ha-thanks', tabindex: '-1', text: 'Thank you for your feedback' });
        box.replaceWith(thanks);
        thanks.focus();
      } else {
        Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; });
        showError(gone(res) ? 'This conversation has ended. Choose \u201cStart again\u201d to ask something else.' : problem(res),
          retryable(res) ? function () { clearError(); sendFeedback(messageId, helpful, box); } : null);
      }
    });
  }

  function startAgain() {
    if (busy) return;
    closeStream();
    clearError();
    setBusy(true);
    var old = conv || loadConv();
    var erase = old ? (conv = old, api('DELETE', '/' + encodeURIComponent(old.id))) : Promise.resolve({ ok: true, status: 204 });
    erase.then(function (res) {
      if (!res.ok && !gone(res)) return res;
      loaded = false;
      return startConversation();
    }).then(function (res) {
      setBusy(false);
      if (!res.ok) showError(problem(res), startAgain);
      ui.input.value = '';
      ui.input.focus();
    });
  }
  function clearLog() {
    Array.prototype.forEach.call(ui.log.querySelectorAll('.ha-msg'), function (m) { m.remove(); });
  }

  // ---------- open / close ----------
  // Below 480 px (a phone, or a desktop at 400% zoom) the open panel fills the screen. It is
  // then a modal dialog: the page behind is inert and Tab wraps inside the panel, so focus never
  // lands on something the panel hides. Wider, the panel sits beside the page and does not trap
  // focus; a page control it would cover takes focus only after the panel is minimised.
  var fullScreen = window.matchMedia('(max-width: 479.98px)');
  var madeInert = []; // the page's elements this widget made inert, to give back on close
  function isOpen() { return !ui.panel.hidden; }
  function syncModal() {
    var modal = !!ui.panel && isOpen() && fullScreen.matches;
    if (modal) ui.panel.setAttribute('aria-modal', 'true'); else if (ui.panel) ui.panel.removeAttribute('aria-modal');
    if (modal && !madeInert.length) {
      Array.prototype.forEach.call(document.body.children, function (n) {
        if (n !== ui.host && !n.inert) { n.inert = true; madeInert.push(n); }
      });
    } else if (!modal && madeInert.length) {
      madeInert.forEach(function (n) { n.inert = false; });
      madeInert = [];
    }
  }
  function open() {
    if (!ui.panel) return;
    ui.panel.hidden = false;
    ui.launcher.setAttribute('aria-expanded', 'true');
    ui.root.classList.add('ha-open');
    ui.badge.hidden = true;
    syncModal();
    ui.input.focus();
    reveal();
    ensureLoaded();
  }
  // `keepFocus`: the resident has moved on to the page, so focus stays where they put it.
  function close(keepFocus) {
    if (!ui.panel || !isOpen()) return;
    ui.panel.hidden = true;
    ui.launcher.setAttribute('aria-expanded', 'false');
    ui.root.classList.remove('ha-open');
    syncModal();
    if (keepFocus !== true) ui.launcher.focus();
  }
  function toggle() { if (ui.panel && isOpen()) close(); else open(); }
  // The panel's controls that Tab can reach, in order.
  function tabStops() {
    return Array.prototype.filter.call(ui.panel.querySelectorAll('a[href], button, input, textarea, select, [tabindex]'),
      function (n) { return !n.disabled && n.tabIndex >= 0 && n.getClientRects().length > 0; });
  }
  // In the full-screen panel, Tab from the last control goes to the first and back.
  function wrapTab(e) {
    if (e.key !== 'Tab' || !isOpen() || !fullScreen.matches) return;
    var stops = tabStops(), here = ui.root.getRootNode().activeElement;
    if (!stops.length) return;
    var first = stops[0], last = stops[stops.length - 1];
    if (e.shiftKey ? here === first || !ui.panel.contains(here) : here === last || !ui.panel.contains(here)) {
      e.preventDefault();
      (e.shiftKey ? last : first).focus();
    }
  }
  // Focus moved to the page beside the open panel: if the panel covers any of that control,
  // minimise the panel (the conversation is kept) so that what has focus can be seen.
  function onPageFocus(e) {
    if (!ui.panel || !isOpen() || e.target === ui.host || !e.target.getBoundingClientRect) return;
    var a = e.target.getBoundingClientRect(), b = ui.panel.getBoundingClientRect();
    var covered = a.width > 0 && a.left < b.right && a.right > b.left && a.top < b.bottom && a.bottom > b.top;
    if (covered) close(true);
  }

  // ---------- build ----------
  function build() {
    if (document.querySelector('herts-assistant')) return;
    var host = ui.host = document.createElement('herts-assistant');
    var shadow = host.attachShadow({ mode: 'open' });
    var css = el('link', { rel: 'stylesheet', href: new URL('widget.css', scriptUrl).href });
    var root = ui.root = el('div', { class: 'ha-root', hidden: true });
    var reveal = function () { root.hidden = false; };
    css.addEventListener('load', reveal);
    css.addEventListener('error', reveal);
    shadow.appendChild(css);
    shadow.appendChild(root);

    ui.close = el('button', { type: 'button', class: 'ha-icon-btn', 'aria-label': 'Close chat' },
      [icon('M6.4 5 5 6.4 10.6 12 5 17.6 6.4 19l5.6-5.6 5.6 5.6 1.4-1.4-5.6-5.6L19 6.4 17.6 5 12 10.6z')]);
    ui.restart = el('button', { type: 'button', class: 'ha-head-btn', text: 'Start again' });
    ui.typing = el('div', { class: 'ha-typing', hidden: true }, [
      el('span', { class: 'ha-dot' }), el('span', { class: 'ha-dot' }), el('span', { class: 'ha-dot' }),
      srOnly('The assistant is typing')]);
    ui.log = el('div', { class: 'ha-log', role: 'log', 'aria-live': 'polite', 'aria-label': 'Conversation', tabindex: '0' }, [ui.typing]);
    ui.state = el('p', { class: 'ha-state', role: 'status' });
    ui.leave = el('button', { type: 'button', class: 'ha-small', text: 'Leave the queue', hidden: true });
    ui.bar = el('div', { class: 'ha-bar' }, [ui.state, ui.leave]);
    ui.agentTyping = el('p', { class: 'ha-agent-typing', 'aria-live': 'polite' });
    ui.badge = el('span', { class: 'ha-badge', text: 'New', hidden: true });
    ui.errorText = el('p', { class: 'ha-error-text' });
    ui.retry = el('button', { type: 'button', class: 'ha-small ha-retry', text: 'Retry' });
    ui.error = el('div', { class: 'ha-error', hidden: true }, [ui.errorText, ui.retry]);
    ui.person = el('button', { type: 'button', class: 'ha-person', text: 'Talk to a person' });
    ui.input = el('input', { type: 'text', id: 'ha-input', class: 'ha-input', autocomplete: 'off', enterkeyhint: 'send', placeholder: 'Type your question' });
    ui.sendBtn = el('button', { type: 'submit', class: 'ha-send' }, [icon('M3 20.5 21 12 3 3.5v6.6l12 1.9-12 1.9z'), el('span', { text: 'Send' })]);
    ui.form = el('form', { class: 'ha-form' }, [el('label', { for: 'ha-input', class: 'ha-sr', text: 'Type your question' }), ui.input, ui.sendBtn]);
    ui.panel = el('div', { class: 'ha-panel', id: 'ha-panel', role: 'dialog', 'aria-label': title, hidden: true }, [
      el('div', { class: 'ha-header' }, [
        el('div', { class: 'ha-heading' }, [el('h2', { text: title }), ui.who = el('p', { text: WHO.bot })]),
        ui.restart, ui.close]),
      ui.log,
      ui.agentTyping,
      el('div', { class: 'ha-alerts', role: 'alert' }, [ui.error]),
      ui.bar,
      el('div', { class: 'ha-footer' }, [
        ui.person,
        ui.form,
        el('p', { class: 'ha-privacy' }, [
          ui.privacy = el('span', { text: PRIVACY_TEXT.bot }), ' ',
          pageLink('How we use your information', PRIVACY_URL)])])]);
    ui.launcher = el('button', { type: 'button', class: 'ha-launcher', 'aria-expanded': 'false', 'aria-controls': 'ha-panel', 'aria-haspopup': 'dialog' },
      [icon('M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8.4L4 21.6V18a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01z'),
        el('span', { class: 'ha-launcher-text', text: title }), ui.badge]);
    root.appendChild(ui.panel);
    root.appendChild(ui.launcher);

    ui.launcher.addEventListener('click', toggle);
    ui.close.addEventListener('click', close);
    ui.restart.addEventListener('click', startAgain);
    ui.retry.addEventListener('click', function () { if (retryAction) retryAction(); });
    ui.person.addEventListener('click', function () { send('Talk to a person'); ui.input.focus(); });
    ui.leave.addEventListener('click', leaveQueue);
    ui.input.addEventListener('input', function () {
      if (ui.input.value.trim() && Date.now() - typedAt >= 2000) tellTyping(true);
    });
    ui.form.addEventListener('submit', function (e) {
      e.preventDefault();
      var text = ui.input.value.trim();
      if (!text || busy) return;
      ui.input.value = '';
      if (typedAt) tellTyping(false);
      send(text);
    });
    root.addEventListener('keydown', wrapTab);
    // Escape closes the panel wherever focus is, unless the page has used that key itself.
    document.addEventListener('keydown', function (e) {
      if ((e.key === 'Escape' || e.key === 'Esc') && ui.panel && isOpen() && !e.defaultPrevented) close();
    });
    document.addEventListener('focusin', onPageFocus);
    fullScreen.addEventListener('change', syncModal);
    document.body.appendChild(host);
    // Waiting for or talking to a person on an earlier page: pick the conversation up again.
    var saved = loadConv();
    if (saved && saved.live) ensureLoaded();
  }

  window.HertsAssistant = { open: open, close: close, toggle: toggle };
  if (document.body) build(); else document.addEventListener('DOMContentLoaded', build);
})();
