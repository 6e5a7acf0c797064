/*! herts-assistant agent console: an ES module, served at /agent, with the shared toolkit in
 * kit/. Everything a resident, agent or editor typed reaches the page through textContent:
 * never innerHTML. The token lives in sessionStorage only. */
import { el } from './kit/dom.js';
import { safeUrl, link, renderText, plainText } from './kit/markup.js';
import { readEvents, openEvents } from './kit/events.js';
import { staffApi, problem, errorCode, retryMs, clear, announceIn, plainWords } from './kit/console.js';

(function () {
  'use strict';

  var API = '/api/v1/agent';
  var TOKEN_KEY = 'herts-assistant-agent:token';
  var OPEN_KEY = 'herts-assistant-agent:open';
  var SOUND_KEY = 'herts-assistant-agent:sound';
  var TITLE = document.title;
  // The queue is read when the server says it changed; polled every QUEUE_MS only while that
  // stream is down, and every QUEUE_SAFETY_MS anyway (for the newest lines of waiting residents).
  var QUEUE_MS = 3000, QUEUE_SAFETY_MS = 30000, PRESENCE_MS = 20000, OFFLINE_MS = 30000, TYPING_MS = 2000, RECONNECT_MS = 1000;
  var ROLE = { resident: 'Resident', bot: 'Assistant', agent: 'Adviser', system: 'Notice' };
  var STATE = { bot: 'With the assistant', queued: 'Waiting for an adviser', agent: 'With an adviser', closed: 'Closed' };

  var $ = function (id) { return document.getElementById(id); };
  var token = null, me = null;
  var timers = {};
  var teams = [];            // from the last queue poll
  var known = null;          // ids of waiting conversations already seen (null until first poll)
  var queueAt = 0;           // when the last queue arrived (for the ticking waits)
  var unseen = 0;            // new conversations since the agent last looked
  var sound = true, interacted = false, audio = null;
  var conv = null;           // the open conversation: {id, state, team, agent, lastId, seen:{}}
  var stream = null;         // AbortController of the open event stream
  var queueStream = null;    // AbortController of the queue-changes stream
  var queueEvery = 0;        // how often the queue is polled now, in ms
  var typingSentAt = 0, typingOn = false;
  var stick = true;          // the transcript follows new messages unless the agent scrolled up

  // ---------- small helpers (the shared ones are in kit/) ----------
  // Bot and notice messages are drawn as the widget draws them; what a person typed is text.
  function messageText(text, role) {
    if (role === 'bot' || role === 'system') return el('div', { class: 'msg-text' }, [renderText(text)]);
    var p = plainText(text, role === 'agent');
    p.className = 'msg-text';
    return p;
  }
  function clip(text, n) { text = String(text || '').replace(/\s+/g, ' ').trim(); return text.length > n ? text.slice(0, n - 1) + '\u2026' : text; }
  function waited(secs) {
    secs = Math.max(0, Math.floor(secs));
    if (secs < 60) return secs + ' s';
    var m = Math.floor(secs / 60);
    return m < 60 ? m + ' min ' + (secs % 60) + ' s' : Math.floor(m / 60) + ' h ' + (m % 60) + ' min';
  }
  function clock(at) {
    var d = new Date(at);
    return isNaN(d) ? '' : d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
  }
  function announce(text) { announceIn($('announcer'), text); }

  // ---------- the service ----------
  var api = staffApi({ base: API, token: function () { return token; }, signOut: signOut, notice: showNotice });
  // Alerts: the live region stays in the page; a message is added to it, so it is read out.
  function say(region, cls, text) {
    var old = region.firstChild;
    if (old && old.textContent === text) return;
    clear(region);
    if (text) region.appendChild(el('p', { class: cls, text: text }));
  }
  function showNotice(text) { say($('notice'), 'notice', text); }

  // ---------- sign in / out ----------
  function signIn(candidate) {
    token = candidate;
    return api('GET', '/me').then(function (res) {
      if (!res.ok || !res.data) {
        token = null;
        try { sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* private mode */ }
        showSignIn(res.status === 403 ? 'This token does not have the agent role.'
          : res.status === 401 ? 'That token was not accepted. Check it and try again.' : problem(res));
        return;
      }
      me = res.data;
      try { sessionStorage.setItem(TOKEN_KEY, token); } catch (e) { /* private mode */ }
      startConsole();
    });
  }
  function showSignIn(error) {
    $('console').hidden = true;
    $('bar-tools').hidden = true;
    $('signin').hidden = false;
    var err = $('token-error'), input = $('token');
    err.hidden = !error;
    err.textContent = error || '';
    if (error) { input.setAttribute('aria-invalid', 'true'); input.setAttribute('aria-describedby', 'token-error'); }
    else { input.removeAttribute('aria-invalid'); input.removeAttribute('aria-describedby'); }
    input.focus();
  }
  function signOut(reason) {
    if (token && !reason) presence('away');
    token = null; me = null; known = null;
    Object.keys(timers).forEach(function (k) { clearInterval(timers[k]); });
    timers = {};
    closeQueueStream();
    forget(null);
    stopFlash();
    try { sessionStorage.removeItem(TOKEN_KEY); sessionStorage.removeItem(OPEN_KEY); } catch (e) { /* private mode */ }
    $('token').value = '';
    showSignIn(reason || null);
  }
  function startConsole() {
    $('signin').hidden = true;
    $('console').hidden = false;
    $('bar-tools').hidden = false;
    $('agent-name').textContent = me.name || '';
    $('presence').value = 'online';
    presence('online');
    timers.presence = setInterval(function () { presence($('presence').value); }, PRESENCE_MS);
    queuePolling(QUEUE_MS);
    openQueueStream();
    timers.tick = setInterval(tick, 1000);
    timers.offline = setInterval(loadOffline, OFFLINE_MS);
    pollQueue();
    loadOffline();
    loadCanned();
    var open = null;
    try { open = sessionStorage.getItem(OPEN_KEY); } catch (e) { /* none */ }
    if (open) openConversation(open, false);
    else $('conversation-heading').focus();
  }
  function presence(status) { if (token) api('POST', '/presence', { status: status }); }

  // ---------- queues ----------
  function pollQueue() {
    if (!token || timers.queueBusy) return;
    timers.queueBusy = true;
    api('GET', '/queue').then(function (res) {
      timers.queueBusy = false;
      if (!res.ok || !res.data) return;
      queueAt = Date.now();
      teams = res.data.teams || [];
      renderQueues(teams, res.data.mine || []);
    });
  }
  function renderQueues(list, mine) {
    var fresh = [], ids = {};
    var box = $('teams'), keep = {};
    list.forEach(function (team, i) {
      var sid = 'team-' + team.id, section = $(sid + '-section');
      if (!section) {
        section = el('section', { class: 'team', id: sid + '-section', 'aria-labelledby': sid }, [
          el('h3', { id: sid }), el('p', { class: 'muted team-status' }), el('ul', { class: 'q-list' }),
          el('p', { class: 'muted team-empty', text: 'Nobody waiting.' })]);
      }
      if (box.children[i] !== section) box.insertBefore(section, box.children[i] || null);
      keep[section.id] = true;
      var waiting = team.waiting || [];
      section.querySelector('h3').textContent = team.name + ' (' + waiting.length + ' waiting)';
      var status = team.open ? 'Open' : 'Closed' + (team.opens ? ', opens ' + team.opens : '');
      status += ' \u00b7 ' + (team.agents_online || 0) + ' adviser' + (team.agents_online === 1 ? '' : 's') + ' online';
      section.querySelector('.team-status').textContent = status;
      section.querySelector('.team-empty').hidden = waiting.length > 0;
      section.querySelector('.q-list').hidden = !waiting.length;
      waiting.forEach(function (w) {
        ids[w.id] = true;
        if (known && !known[w.id]) fresh.push({ w: w, team: team });
      });
      syncList(section.querySelector('.q-list'), waiting);
    });
    Array.prototype.slice.call(box.children).forEach(function (s) { if (!keep[s.id]) s.remove(); });
    syncList($('mine'), mine);
    mine.forEach(function (w) { ids[w.id] = true; }); // a conversation the agent transfers away is not "new"
    $('mine-empty').hidden = mine.length > 0;
    fillTeams(list);
    if (fresh.length) newConversations(fresh);
    known = ids;
  }
  // Update a list in place, keyed by conversation id, so focus stays where the agent left it.
  function syncList(ul, items) {
    var old = {};
    Array.prototype.forEach.call(ul.children, function (li) { old[li.getAttribute('data-conv')] = li; });
    items.forEach(function (w, i) {
      var li = old[w.id] || queueItem(w.id);
      delete old[w.id];
      updateItem(li.firstChild, w);
      if (ul.children[i] !== li) ul.insertBefore(li, ul.children[i] || null);
    });
    Object.keys(old).forEach(function (k) { old[k].remove(); });
  }
  function queueItem(id) {
    var b = el('button', { type: 'button', class: 'q-item', 'data-conv': id }, [
      el('span', { class: 'q-topic' }), el('span', { class: 'q-wait' }), el('span', { class: 'q-last' })]);
    b.addEventListener('click', function () { openConversation(id, true); });
    return el('li', { 'data-conv': id }, [b]);
  }
  function updateItem(b, w) {
    b.querySelector('.q-topic').textContent = (w.topic_title || 'No topic yet') + (w.place ? ' \u00b7 ' + w.place : '');
    b.setAttribute('data-prefix', w.state === 'agent' ? 'With ' + (w.agent || 'an adviser') + ' \u00b7 ' : 'Waiting ');
    b.setAttribute('data-waiting', String(w.waiting_seconds || 0));
    b.querySelector('.q-wait').textContent = b.getAttribute('data-prefix') + waited(w.waiting_seconds || 0);
    b.querySelector('.q-last').textContent = w.last_message ? '\u201c' + clip(w.last_message, 80) + '\u201d' : '';
    if (conv && conv.id === w.id) b.setAttribute('aria-current', 'true'); else b.removeAttribute('aria-current');
  }
  function tick() { // the waiting times count up between polls
    var extra = (Date.now() - queueAt) / 1000;
    Array.prototype.forEach.call(document.querySelectorAll('.q-item'), function (b) {
      b.querySelector('.q-wait').textContent = b.getAttribute('data-prefix') + waited(Number(b.getAttribute('data-waiting')) + extra);
    });
  }
  function teamName(id) {
    var t = teams.filter(function (x) { return x.id === id; })[0];
    return t ? t.name : String(id || '');
  }
  function fillTeams(list) {
    var select = $('transfer-team'), chosen = select.value;
    clear(select);
    list.forEach(function (t) { select.appendChild(el('option', { value: t.id, text: t.name })); });
    if (chosen) select.value = chosen;
  }

  // ---------- alerts: title, sound, live region ----------
  function newConversations(fresh) {
    unseen += fresh.length;
    var first = fresh[0];
    announce(fresh.length === 1
      ? 'New conversation waiting in ' + first.team.name + ': ' + (first.w.topic_title || 'no topic yet') + (first.w.place ? ', ' + first.w.place : '') + '.'
      : fresh.length + ' new conversations waiting.');
    beep();
    startFlash();
  }
  function startFlash() {
    var label = '(' + unseen + ') New conversation' + (unseen === 1 ? '' : 's');
    document.title = label;
    clearInterval(timers.flash);
    var on = true;
    timers.flash = setInterval(function () { on = !on; document.title = on ? label : TITLE; }, 1000);
  }
  function stopFlash() { clearInterval(timers.flash); delete timers.flash; unseen = 0; document.title = TITLE; }
  function beep() {
    if (!sound || !interacted) return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === 'suspended') audio.resume();
      var osc = audio.createOscillator(), gain = audio.createGain(), t = audio.currentTime;
      osc.type = 'sine';
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.2, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.25);
      osc.connect(gain).connect(audio.destination);
      osc.start(t);
      osc.stop(t + 0.3);
    } catch (e) { /* no audio: the title and the announcement still tell */ }
  }
  function setSound(on) {
    sound = on;
    var b = $('sound');
    b.textContent = on ? 'Sound on' : 'Sound off';
    b.setAttribute('aria-pressed', on ? 'true' : 'false');
    try { sessionStorage.setItem(SOUND_KEY, on ? '1' : '0'); } catch (e) { /* private mode */ }
  }

  // ---------- one conversation ----------
  function openConversation(id, focus) {
    if (!token) return;
    if (!conv || conv.id !== id) {
      closeStream();
      stopTyping();
      conv = { id: id, state: null, lastId: 0, seen: {} };
      clear($('transcript'));
      clear($('articles'));
      $('reply').value = '';
    }
    showTab('conversation', false);
    stopFlash();
    try { sessionStorage.setItem(OPEN_KEY, id); } catch (e) { /* private mode */ }
    Array.prototype.forEach.call(document.querySelectorAll('.q-item'), function (b) {
      if (b.getAttribute('data-conv') === id) b.setAttribute('aria-current', 'true'); else b.removeAttribute('aria-current');
    });
    return api('GET', '/conversations/' + encodeURIComponent(id)).then(function (res) {
      if (!conv || conv.id !== id) return;
      if (!res.ok || !res.data) {
        if (res.status === 404) { forget('This conversation no longer exists.'); return; }
        convError(problem(res));
        return;
      }
      var c = res.data;
      $('conv-empty').hidden = true;
      $('conv').hidden = false;
      var topics = (c.details && c.details.topics) || [];
      var latest = topics[topics.length - 1];
      $('conversation-heading').textContent = 'Conversation: ' + ((latest && (latest.title || latest.id)) || 'no topic yet');
      convError(null);
      renderDetails(c.details || {});
      // The history is not read out on opening; only what arrives after it.
      var log = $('transcript');
      log.setAttribute('aria-live', 'off');
      (c.messages || []).forEach(addMessage);
      stick = true;
      log.scrollTop = log.scrollHeight;
      setTimeout(function () { log.setAttribute('aria-live', 'polite'); }, 100);
      setState({ state: c.state, team: c.team, agent: c.agent });
      loadSuggestions();
      openStream();
      if (focus) $('conversation-heading').focus();
    });
  }
  function forget(text) {
    closeStream();
    conv = null;
    try { sessionStorage.removeItem(OPEN_KEY); } catch (e) { /* none */ }
    $('conv').hidden = true;
    $('conv-empty').hidden = false;
    $('conv-empty').textContent = (text ? text + ' ' : '') + 'Choose a conversation from the queues.';
    $('conversation-heading').textContent = 'No conversation open';
    clear($('details')).appendChild(el('p', { class: 'muted', text: 'Open a conversation to see its details.' }));
    clear($('articles'));
    $('articles-empty').hidden = false;
    if (text) announce(text);
  }
  function convError(text) { say($('conv-alert'), 'error-text', text || ''); }

  function renderDetails(d) {
    var box = clear($('details'));
    var dl = el('dl', { class: 'facts' });
    var fact = function (term, value) { dl.appendChild(el('dt', { text: term })); dl.appendChild(el('dd', { text: value || 'Not given' })); };
    fact('Place', d.place);
    fact('District council', d.district);
    fact('Topics', (d.topics || []).map(function (t) { return t.title || t.id; }).join(', '));
    box.appendChild(dl);
    box.appendChild(el('h3', { text: 'What they asked' }));
    var qs = d.questions || [];
    if (qs.length) box.appendChild(el('ol', { class: 'asked' }, qs.map(function (q) { return el('li', { text: q }); })));
    else box.appendChild(el('p', { class: 'muted', text: 'Nothing yet.' }));
    box.appendChild(el('h3', { text: 'What the assistant answered' }));
    var as = d.answers || [];
    if (as.length) {
      box.appendChild(el('ul', { class: 'answered' }, as.map(function (a) {
        return el('li', null, [el('strong', { text: (a.topic || 'Answer') + ': ' }), messageText(a.text, 'bot')]);
      })));
    } else box.appendChild(el('p', { class: 'muted', text: 'No answers given.' }));
  }

  function addMessage(m) {
    if (!m || !conv) return false;
    var key = String(m.id || '');
    if (key && conv.seen[key]) return false;
    if (key) conv.seen[key] = true;
    var n = parseInt(key, 10);
    if (n > conv.lastId) conv.lastId = n;
    var role = ROLE[m.role] ? m.role : 'system';
    var item = el('div', { class: 'msg msg-' + role, 'data-id': key }, [
      el('p', { class: 'msg-head' }, [el('span', { class: 'msg-role', text: ROLE[role] }), el('span', { class: 'msg-time', text: clock(m.at) })]),
      messageText(m.text, role)]);
    var links = (m.links || []).filter(function (l) { return l && safeUrl(l.url); });
    if (links.length) item.appendChild(el('ul', { class: 'msg-links' }, links.map(function (l) { return el('li', null, [link(String(l.title || l.url), String(l.url))]); })));
    if (m.quick_replies && m.quick_replies.length) item.appendChild(el('p', { class: 'muted msg-offered', text: 'Offered: ' + m.quick_replies.join(' \u00b7 ') }));
    $('transcript').appendChild(item);
    if (role === 'agent') stick = true;
    if (stick) $('transcript').scrollTop = $('transcript').scrollHeight;
    return true;
  }

  function setState(s) {
    if (!conv) return;
    ['state', 'team', 'agent'].forEach(function (k) { if (s[k] !== undefined) conv[k] = s[k]; });
    var mineNow = conv.state === 'agent' && me && conv.agent === me.name;
    var text = STATE[conv.state] || conv.state || '';
    if (conv.state === 'agent' && conv.agent) text = mineNow ? 'With you' : 'With ' + conv.agent;
    if (conv.team) text += ' \u00b7 ' + teamName(conv.team);
    if (s.queue) text += ' \u00b7 position ' + s.queue.position + ', about ' + s.queue.wait_minutes + ' min';
    $('conv-status').textContent = text;
    $('claim').hidden = conv.state !== 'queued';
    $('transfer-box').hidden = !mineNow;
    $('return').hidden = !mineNow;
    $('close-box').hidden = !mineNow;
    $('reply').disabled = !mineNow;
    $('send').disabled = !mineNow;
    if (!mineNow) stopTyping();
    if (s.resident_typing !== undefined) $('typing').hidden = !s.resident_typing || conv.state === 'closed';
  }

  // ---------- live events ----------
  function closeStream() { if (stream) { stream.abort(); stream = null; } $('typing').hidden = true; }
  function openStream() {
    closeStream();
    if (!conv || !token) return;
    var c = conv, ctrl = new AbortController();
    stream = ctrl;
    var again = function (ms) {
      if (stream !== ctrl || c.state === 'closed') return;
      setTimeout(function () { if (stream === ctrl && conv === c && token) openStream(); }, ms);
    };
    openEvents(API + '/conversations/' + encodeURIComponent(c.id) + '/events?after=' + c.lastId, token, ctrl.signal).then(function (res) {
      if (res.status === 401) { signOut('Your sign-in is no longer accepted. Please sign in again.'); return; }
      if (res.status === 404) { if (conv === c) forget('This conversation no longer exists.'); return; }
      if (res.status === 429 || res.status === 503) { again(retryMs({ retryAfter: res.headers.get('Retry-After') })); return; }
      if (!res.ok || !res.body) { again(RECONNECT_MS * 3); return; }
      return readEvents(res, function () { return stream === ctrl; }, dispatch).then(function () { again(RECONNECT_MS); });
    }).catch(function () { again(RECONNECT_MS); });
  }
  // Queue changes pushed by the server: each `queue` event reads the queue.
  function queuePolling(ms) {
    if (timers.queue && queueEvery === ms) return;
    clearInterval(timers.queue);
    timers.queue = setInterval(pollQueue, ms);
    queueEvery = ms;
  }
  function closeQueueStream() { if (queueStream) { queueStream.abort(); queueStream = null; } }
  function openQueueStream() {
    closeQueueStream();
    if (!token) return;
    var ctrl = new AbortController();
    queueStream = ctrl;
    var again = function (ms) {
      if (queueStream !== ctrl) return;
      queuePolling(QUEUE_MS);
      setTimeout(function () { if (queueStream === ctrl && token) openQueueStream(); }, ms);
    };
    openEvents(API + '/queue/events', token, ctrl.signal).then(function (res) {
      if (res.status === 401) { signOut('Your sign-in is no longer accepted. Please sign in again.'); return; }
      if (res.status === 429 || res.status === 503) { again(retryMs({ retryAfter: res.headers.get('Retry-After') })); return; }
      if (!res.ok || !res.body) { again(RECONNECT_MS * 3); return; }
      queuePolling(QUEUE_SAFETY_MS);
      return readEvents(res, function () { return queueStream === ctrl; }, function (event) {
        if (event.type === 'queue') pollQueue();
      }).then(function () { again(RECONNECT_MS); });
    }).catch(function () { again(RECONNECT_MS); });
  }
  function dispatch(event) {
    var payload = event.data;
    if (event.type === 'message') {
      if (addMessage(payload) && payload.role === 'resident') { $('typing').hidden = true; residentSaid(); }
    } else if (event.type === 'status') {
      setState(payload);
    } else if (event.type === 'gone') {
      forget('This conversation no longer exists.');
    }
  }

  // ---------- actions ----------
  function act(path, body, done) {
    if (!conv) return;
    var c = conv;
    convError(null);
    return api('POST', '/conversations/' + encodeURIComponent(c.id) + path, body).then(function (res) {
      if (conv !== c) return;
      if (res.ok) { done(res.data || {}); pollQueue(); return; }
      if (res.status === 409) convError(errorCode(res) === 'already_claimed' ? 'Another agent has taken this conversation.' : problem(res));
      else if (res.status === 404) forget('This conversation no longer exists.');
      else if (res.status !== 401) convError(problem(res));
    });
  }
  function claim() {
    act('/claim', undefined, function (d) {
      setState({ state: d.state || 'agent', agent: d.agent || me.name });
      announce('You have claimed this conversation.');
      $('reply').focus();
    });
  }
  function sendReply() {
    var box = $('reply'), text = box.value.trim();
    if (!text || !conv || $('send').disabled) return;
    $('send').disabled = true;
    stopTyping();
    var c = conv;
    api('POST', '/conversations/' + encodeURIComponent(c.id) + '/messages', { text: text }).then(function (res) {
      if (conv !== c) return;
      setState({});
      if (res.ok) {
        if (box.value.trim() === text) box.value = '';
        if (res.data && res.data.message) addMessage(res.data.message);
        convError(null);
        box.focus();
      } else if (res.status === 409) convError('This conversation is no longer yours, so the reply was not sent.');
      else if (res.status !== 401) convError(problem(res) + ' Your reply has not been sent; it is still in the box.');
    });
  }
  function typing() {
    if (!conv || $('reply').disabled) return;
    var now = Date.now();
    if (!$('reply').value.trim()) { stopTyping(); return; }
    if (now - typingSentAt < TYPING_MS) return;
    typingSentAt = now;
    typingOn = true;
    api('POST', '/conversations/' + encodeURIComponent(conv.id) + '/typing', { typing: true });
  }
  function stopTyping() {
    if (!typingOn || !conv || !token) { typingOn = false; return; }
    typingOn = false;
    typingSentAt = 0;
    api('POST', '/conversations/' + encodeURIComponent(conv.id) + '/typing', { typing: false });
  }
  function insert(text) {
    var box = $('reply');
    if (box.disabled) { convError('Claim the conversation before replying.'); return; }
    var start = box.selectionStart || 0, end = box.selectionEnd || 0, v = box.value;
    var before = v.slice(0, start), after = v.slice(end);
    var sep = before && !/\s$/.test(before) ? ' ' : '';
    box.value = before + sep + text + after;
    var pos = (before + sep + text).length;
    box.focus();
    box.setSelectionRange(pos, pos);
    typing();
  }

  // ---------- knowledge, canned replies, out-of-hours messages ----------
  // The resident said more: fresh details (ask once) and fresh suggestions, at most every 2 s.
  function residentSaid() {
    if (timers.said) return;
    timers.said = setTimeout(function () {
      delete timers.said;
      if (!conv) return;
      var c = conv;
      api('GET', '/conversations/' + encodeURIComponent(c.id)).then(function (res) {
        if (conv === c && res.ok && res.data) renderDetails(res.data.details || {});
      });
      loadSuggestions();
    }, 2000);
  }
  function loadSuggestions() {
    if (!conv) return;
    var c = conv;
    api('GET', '/conversations/' + encodeURIComponent(c.id) + '/suggestions').then(function (res) {
      if (conv !== c || !res.ok || !res.data) return;
      var ul = clear($('articles')), list = res.data.articles || [];
      list.forEach(function (a) {
        var url = safeUrl(a.url);
        var ins = el('button', { type: 'button', class: 'btn btn-small', text: 'Insert', 'aria-label': 'Insert \u201c' + a.title + '\u201d into the reply' });
        ins.addEventListener('click', function () { insert(clip(plainWords(a.text), 200) + (url ? ' ' + url : '')); });
        ul.appendChild(el('li', { class: 'article' }, [
          el('h3', null, [url ? link(String(a.title), url) : document.createTextNode(String(a.title))]),
          el('p', { text: clip(plainWords(a.text), 200) }), ins]));
      });
      $('articles-empty').hidden = list.length > 0;
    });
  }
  function loadCanned() {
    api('GET', '/canned').then(function (res) {
      if (!res.ok || !res.data) return;
      var box = clear($('canned'));
      (res.data.replies || []).forEach(function (r) {
        var b = el('button', { type: 'button', class: 'btn btn-small chip', text: String(r.label) });
        b.addEventListener('click', function () { insert(String(r.text)); });
        box.appendChild(b);
      });
    });
  }
  function loadOffline() {
    if (!token) return;
    api('GET', '/offline-messages').then(function (res) {
      if (!res.ok || !res.data) return;
      var list = (res.data.messages || []).filter(function (m) { return !m.done; });
      var ul = clear($('offline'));
      list.forEach(function (m) {
        var done = el('button', { type: 'button', class: 'btn btn-small', text: 'Mark done', 'aria-label': 'Mark the message from ' + (m.name || 'a resident') + ' done' });
        var item = el('li', { class: 'offline-item' }, [
          el('h3', { text: (m.name || 'No name given') }),
          el('dl', { class: 'facts' }, [
            el('dt', { text: 'Contact' }), el('dd', { text: m.contact || 'Not given' }),
            el('dt', { text: 'Team' }), el('dd', { text: teamName(m.team) }),
            el('dt', { text: 'Left at' }), el('dd', { text: m.at ? new Date(m.at).toLocaleString('en-GB') : '' })]),
          el('p', { class: 'offline-q', text: m.question || '' }), done]);
        done.addEventListener('click', function () {
          done.disabled = true;
          api('POST', '/offline-messages/' + encodeURIComponent(m.id) + '/done').then(function (r) {
            if (!r.ok) { done.disabled = false; return; }
            var next = item.nextElementSibling || item.previousElementSibling;
            item.remove();
            updateOfflineCount();
            announce('Marked done.');
            (next ? next.querySelector('button') : $('offline-heading')).focus();
          });
        });
        ul.appendChild(item);
      });
      updateOfflineCount();
    });
  }
  function updateOfflineCount() {
    var n = $('offline').children.length;
    $('offline-count').textContent = n ? '(' + n + ')' : '';
    $('offline-empty').hidden = n > 0;
  }

  // ---------- tabs ----------
  function showTab(name, focus) {
    ['conversation', 'offline'].forEach(function (t) {
      var on = t === name, tab = $('tab-' + t);
      tab.setAttribute('aria-selected', on ? 'true' : 'false');
      tab.tabIndex = on ? 0 : -1;
      $('panel-' + t).hidden = !on;
      if (on && focus) tab.focus();
    });
    if (name === 'offline') loadOffline();
  }

  // ---------- wiring ----------
  function wire() {
    $('signin-form').addEventListener('submit', function (e) {
      e.preventDefault();
      var t = $('token').value.trim();
      if (!t) { showSignIn('Paste your agent token.'); return; }
      signIn(t);
    });
    $('sign-out').addEventListener('click', function () { signOut(null); });
    $('presence').addEventListener('change', function () { presence($('presence').value); });
    $('sound').addEventListener('click', function () { setSound(!sound); if (sound) beep(); });
    $('claim').addEventListener('click', claim);
    $('transfer').addEventListener('click', function () {
      var team = $('transfer-team').value, name = $('transfer-team').selectedOptions[0];
      act('/transfer', { team: team }, function (d) {
        setState({ state: d.state || 'queued', team: d.team || team, agent: null });
        announce('Transferred to ' + (name ? name.textContent : team) + '.');
      });
    });
    $('return').addEventListener('click', function () {
      act('/return', undefined, function (d) { setState({ state: d.state || 'bot', agent: null }); announce('Returned to the assistant.'); });
    });
    $('close').addEventListener('click', function () {
      act('/close', { outcome: $('close-outcome').value }, function (d) { setState({ state: d.state || 'closed' }); announce('Conversation closed.'); });
    });
    $('reply-form').addEventListener('submit', function (e) { e.preventDefault(); sendReply(); });
    $('reply').addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); sendReply(); }
    });
    $('reply').addEventListener('input', typing);
    var log = $('transcript');
    log.addEventListener('scroll', function () { stick = log.scrollHeight - log.scrollTop - log.clientHeight < 40; });
    if (window.ResizeObserver) new ResizeObserver(function () { if (stick) log.scrollTop = log.scrollHeight; }).observe(log);
    $('reply').addEventListener('blur', stopTyping);
    var tabs = [$('tab-conversation'), $('tab-offline')];
    tabs.forEach(function (tab, i) {
      tab.addEventListener('click', function () { showTab(i ? 'offline' : 'conversation', false); });
      tab.addEventListener('keydown', function (e) {
        if (e.key === 'ArrowRight' || e.key === 'ArrowLeft' || e.key === 'Home' || e.key === 'End') {
          e.preventDefault();
          var j = e.key === 'Home' ? 0 : e.key === 'End' ? 1 : 1 - i;
          showTab(j ? 'offline' : 'conversation', true);
        }
      });
    });
    // Browsers allow sound only after the person has interacted with the page.
    var touched = function () {
      interacted = true;
      if (timers.flash && document.hasFocus()) stopFlash();
    };
    document.addEventListener('pointerdown', touched, true);
    document.addEventListener('keydown', touched, true);
    window.addEventListener('focus', function () { if (timers.flash && unseen && document.visibilityState === 'visible') setTimeout(stopFlash, 3000); });
    window.addEventListener('pagehide', function () {
      if (token) fetch(API + '/presence', { method: 'POST', keepalive: true, headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' }, body: '{"status":"away"}' }).catch(function () {});
    });
  }

  function init() {
    wire();
    try { setSound(sessionStorage.getItem(SOUND_KEY) !== '0'); } catch (e) { setSound(true); }
    var saved = null;
    try { saved = sessionStorage.getItem(TOKEN_KEY); } catch (e) { /* private mode */ }
    if (saved) signIn(saved); else showSignIn(null);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init); else init();
}());
