/*! herts-assistant content editor: an ES module, served at /editor, with the shared toolkit in
 * kit/. One file over 400 lines on purpose: it is one page's workflow (topics, the file editor,
 * trying questions, review, history, insights) over helpers that are all in kit/ or below.
 * Everything an editor, resident or agent typed reaches the page through textContent or text
 * nodes: never innerHTML. Answers are previewed with the widget's own renderer
 * (kit/markup.js). The token lives in sessionStorage only. */
import { el } from './kit/dom.js';
import { safeUrl, link, renderText } from './kit/markup.js';
import { staffApi, problem, errorCode, clear, announceIn } from './kit/console.js';

(function () {
  'use strict';

  var API = '/api/v1/editor';
  var TOKEN_KEY = 'herts-assistant-editor:token';
  var TAB_KEY = 'herts-assistant-editor:tab';
  var TABS = ['topics', 'edit', 'try', 'changes', 'review', 'history', 'due', 'insights'];
  var CHANGE = { changed: 'Changed', added: 'Added', removed: 'Removed' };
  var STATUS = { submitted: 'Waiting for review', scheduled: 'Approved, to be published later', published: 'Published', rejected: 'Rejected' };
  var ACTION = { submitted: 'Submitted', scheduled: 'Approved for later', rejected: 'Rejected', published: 'Published', restored: 'Restored' };
  var SCOPE = { county: 'County', district: 'District', elsewhere: 'Elsewhere', conversation: 'Conversation' };
  var FILE_NAME = /^[a-z0-9][a-z0-9_-]*\.(md|toml)$/;

  var $ = function (id) { return document.getElementById(id); };
  var token = null;
  var me = null;          // { name, roles: [..] | null when the service does not say }
  var draft = null;       // the last DraftView
  var file = null;        // the open file: { path, saved: text | null (new), live: text | null }
  var buffers = {};       // unsaved text by path
  var tab = 'topics';
  var seq = {};           // the newest request of each kind, so a slow old answer is dropped

  // ---------- DOM helpers ----------
  function svg(tag, attrs) {
    var node = document.createElementNS('http://www.w3.org/2000/svg', tag);
    Object.keys(attrs || {}).forEach(function (k) { if (k === 'text') node.textContent = attrs[k]; else node.setAttribute(k, attrs[k]); });
    return node;
  }
  function button(text, cls, onClick, attrs) {
    var b = el('button', Object.assign({ type: 'button', class: cls || 'btn', text: text }, attrs || {}));
    b.addEventListener('click', onClick);
    return b;
  }
  // A field refused: marked invalid, the reason said in `alert`, focus on the field.
  function refuse(field, alert, words) {
    field.setAttribute('aria-invalid', 'true');
    say(alert, words);
    field.focus();
  }
  // While a card's request is on its way its buttons cannot be pressed again.
  function cardBusy(card, busy) {
    Array.prototype.forEach.call(card.querySelectorAll('button'), function (b) { b.disabled = busy; });
  }
  // A table is shown only with rows; `empty` says so in words instead.
  function rowsShown(tbody, n, empty) {
    tbody.closest('.table-wrap').hidden = !n;
    if (empty) empty.hidden = n > 0;
  }
  function cell(content, cls) {
    var td = el('td', cls ? { class: cls } : null);
    if (content === null || content === undefined) content = '';
    td.appendChild(typeof content === 'object' ? content : document.createTextNode(String(content)));
    return td;
  }
  function when(at) {
    var d = new Date(at);
    return at && !isNaN(d) ? d.toLocaleString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' }) : '';
  }
  function day(iso) {
    var d = new Date(String(iso || '') + 'T12:00:00Z');
    return iso && !isNaN(d) ? d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' }) : '';
  }
  function plural(n, one, many) { return n + ' ' + (n === 1 ? one : (many || one + 's')); }
  function score(x) { return (Number(x) || 0).toFixed(3); }
  function percent(x) { return Math.round((Number(x) || 0) * 100) + '%'; }
  function announce(text) { announceIn($('announcer'), text); }
  // An alert region stays in the page; a message is put in it, so it is read out.
  function say(region, text, ok, extra) {
    clear(region);
    if (!text) return;
    var box = region.appendChild(el('div', { class: 'alert' + (ok ? ' alert-ok' : '') }, [el('p', { text: text })]));
    if (extra) box.appendChild(extra);
  }
  function showNotice(text) {
    var n = $('notice');
    if (!text) { clear(n); return; }
    if (n.firstChild && n.firstChild.textContent === text) return;
    clear(n).appendChild(el('p', { class: 'notice', text: text }));
  }
  function topicTitle(id) {
    var t = draft && (draft.topics || []).filter(function (x) { return x.id === id; })[0];
    return t ? t.title : '';
  }
  function topicAt(id) {
    return draft && (draft.topics || []).filter(function (x) { return x.id === id; })[0];
  }

  // A reply as the widget shows it: the text, its links, the quick replies offered.
  function renderReply(reply) {
    var box = el('div', { class: 'reply' }, [el('div', { class: 'bubble' }, [renderText(reply.text)])]);
    var links = (reply.links || []).filter(function (l) { return l && safeUrl(l.url); });
    if (links.length) box.appendChild(el('ul', { class: 'reply-links' }, links.map(function (l) { return el('li', null, [link(String(l.title || l.url), String(l.url))]); })));
    if (reply.quick_replies && reply.quick_replies.length) box.appendChild(el('p', { class: 'muted reply-quick', text: 'Suggested replies: ' + reply.quick_replies.join(' \u00b7 ') }));
    return box;
  }

  // ---------- the service ----------
  var api = staffApi({ base: API, token: function () { return token; }, signOut: signOut, notice: showNotice, dropStale: true });
  function filePath(path) {
    var i = path.indexOf('/');
    return '/draft/files/' + encodeURIComponent(path.slice(0, i)) + '/' + encodeURIComponent(path.slice(i + 1));
  }
  // Only the newest call of a kind counts: `latest('x')` returns a check for its answer.
  function latest(kind) {
    var n = (seq[kind] || 0) + 1;
    seq[kind] = n;
    return function () { return seq[kind] === n && !!token; };
  }

  // ---------- sign in / out ----------
  function signIn(candidate) {
    token = candidate;
    return api('GET', '/draft').then(function (res) {
      if (res.stale) return;
      if (!res.ok || !res.data) {
        token = null;
        try { sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* private mode */ }
        showSignIn(res.status === 403 ? 'This token does not have the editor role.'
          : res.status === 401 ? 'That token was not accepted. Check it and try again.' : problem(res));
        return;
      }
      me = { name: res.data.editor, roles: null };
      try { sessionStorage.setItem(TOKEN_KEY, token); } catch (e) { /* private mode */ }
      // Which roles: the service says where it can (GET /me); otherwise approving is offered
      // to every editor and the service refuses those without the approver role.
      return api('GET', '/me').then(function (who) {
        if (who.ok && who.data && who.data.roles) me.roles = who.data.roles;
        start(res.data);
      });
    });
  }
  function canApprove() { return !me || !me.roles || me.roles.indexOf('approver') >= 0; }
  function showSignIn(error) {
    $('work').hidden = true;
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
    token = null; me = null; draft = null; file = null; buffers = {};
    try { sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* private mode */ }
    $('token').value = '';
    $('file-text').value = '';
    $('editor-box').hidden = true;
    // Nothing of this person's stays in the page for whoever signs in next.
    ['topics-body', 'problems', 'draft-changes', 'try-replies', 'try-live-replies', 'try-candidates', 'diff', 'submit-alert',
      'waiting', 'decided', 'versions', 'audit', 'overdue', 'soon', 'days', 'by-topic', 'groups', 'file-alert', 'history-alert']
      .forEach(function (id) { clear($(id)); });
    $('try-result').hidden = true;
    $('submit-message').value = '';
    showNotice('');
    showSignIn(reason || null);
  }
  function start(view) {
    $('signin').hidden = true;
    $('work').hidden = false;
    $('bar-tools').hidden = false;
    $('editor-name').textContent = me.name || '';
    $('editor-role').textContent = me.roles ? ' (' + me.roles.filter(function (r) { return r === 'editor' || r === 'approver'; }).join(', ') + ')' : '';
    setDraft(view);
    var saved = null;
    try { saved = sessionStorage.getItem(TAB_KEY); } catch (e) { /* none */ }
    showTab(TABS.indexOf(saved) >= 0 ? saved : 'topics', false);
    $('work').focus({ preventScroll: true });
    loadSubmissionCount();
  }

  // ---------- tabs (the ARIA tabs pattern: arrows, Home and End move and show) ----------
  function showTab(name, focus) {
    tab = name;
    TABS.forEach(function (t) {
      var on = t === name, b = $('tab-' + t);
      b.setAttribute('aria-selected', on ? 'true' : 'false');
      b.tabIndex = on ? 0 : -1;
      $('panel-' + t).hidden = !on;
      if (on && focus) b.focus();
    });
    try { sessionStorage.setItem(TAB_KEY, name); } catch (e) { /* private mode */ }
    if (name === 'topics') { loadDraft(); loadRatings(); }
    else if (name === 'edit') { loadDraft(); if (!file && draft && draft.files.length) openFile(draft.files[0], 0, false); }
    else if (name === 'changes') loadDiff();
    else if (name === 'review') loadSubmissions();
    else if (name === 'history') loadHistory();
    else if (name === 'due') loadDue();
    else if (name === 'insights') { loadInsights(); loadGroups(); }
  }

  // ---------- the draft: files, topics, problems, changes ----------
  function loadDraft() {
    var fresh = latest('draft');
    return api('GET', '/draft').then(function (res) { if (fresh() && res.ok && res.data) setDraft(res.data); return res; });
  }
  function setDraft(view) {
    seq.draft = (seq.draft || 0) + 1; // an older GET in flight must not undo this
    draft = view;
    fillFiles();
    renderTopics();
    renderProblems();
    renderChanges();
    var n = (view.changes || []).length;
    $('changes-count').textContent = n ? '(' + n + ')' : '';
    updateFileState();
  }
  function fillFiles() {
    // The person's choice stays chosen; showing a file chooses it (see show).
    var select = $('file-select'), chosen = select.value || (file ? file.path : '');
    clear(select);
    var paths = draft.files.slice();
    if (file && paths.indexOf(file.path) < 0) paths.push(file.path);
    paths.forEach(function (p) { select.appendChild(el('option', { value: p, text: p + (buffers[p] !== undefined ? ' (unsaved)' : '') })); });
    if (chosen && paths.indexOf(chosen) >= 0) select.value = chosen;
  }

  // Residents' feedback per topic over the last 30 days, from the insights: {id: tally}.
  var ratings = {};
  function loadRatings() {
    return api('GET', '/insights?days=30').then(function (res) {
      if (!res.ok || !res.data) return;
      ratings = {};
      (res.data.by_topic || []).forEach(function (x) { ratings[x.topic] = x.tally || {}; });
      renderTopics();
    });
  }
  function lowRated(id) {
    var r = ratings[id];
    return !!r && (r.unhelpful || 0) > (r.helpful || 0);
  }
  function ratingText(id) {
    var r = ratings[id];
    if (!r || !(r.helpful || r.unhelpful)) return 'No feedback';
    return (r.helpful || 0) + ' helpful, ' + (r.unhelpful || 0) + ' not';
  }
  function renderTopics() {
    if (!draft) return;
    var q = $('topic-search').value.trim().toLowerCase(), scope = $('topic-scope').value, overdue = $('topic-overdue').checked;
    var low = $('topic-low').checked;
    var all = draft.topics || [];
    var shown = all.filter(function (t) {
      return (!q || t.id.toLowerCase().indexOf(q) >= 0 || t.title.toLowerCase().indexOf(q) >= 0) &&
        (!scope || t.scope === scope) && (!overdue || t.overdue) && (!low || lowRated(t.id));
    });
    var body = clear($('topics-body'));
    shown.forEach(function (t) {
      var open = button(t.title, 'btn-link', function () { openFile(t.path, t.line, true); },
        { 'aria-label': 'Open ' + t.title + ' in ' + t.path + ' at line ' + t.line, 'data-topic': t.id });
      var opener = t.kind === 'article' ? open : el('span', { class: 'topic-open' }, [open, ' ', button('Form', 'btn btn-small', function () {
        openFile(t.path, t.line, true).then(function () { openForm(t.id); });
      }, { 'aria-label': 'Edit ' + t.title + ' as a form' })]);
      var due = el('span', null, [day(t.due) || 'Not set']);
      if (t.overdue) due.appendChild(el('span', { class: 'tag tag-warn', text: ' Overdue' }));
      var row = el('tr', null, [cell(opener), cell(el('span', { class: 'mono', text: t.id })), cell(t.kind === 'article' ? 'Article' : 'Topic'),
        cell(SCOPE[t.scope] || t.scope), cell(t.path + ':' + t.line), cell(day(t.last_reviewed) || 'Never'), cell(due),
        cell(lowRated(t.id) ? el('span', null, [ratingText(t.id), el('span', { class: 'tag tag-warn', text: ' Low' })]) : ratingText(t.id))]);
      body.appendChild(row);
    });
    $('topics-count').textContent = shown.length === all.length ? plural(all.length, 'topic') + ' and articles.'
      : shown.length + ' of ' + all.length + ' shown.';
  }

  function renderProblems() {
    var list = clear($('problems')), problems = draft.problems || [];
    problems.forEach(function (p) { list.appendChild(problemItem(p)); });
    $('problems-empty').hidden = problems.length > 0;
    $('problems-count').textContent = problems.length ? '(' + problems.length + ')' : '';
  }
  function problemItem(p) {
    return el('li', { class: 'problem' }, [
      button(p.path + ', line ' + p.line, 'btn-link', function () { openFile(p.path, p.line, true); },
        { 'aria-label': 'Go to ' + p.path + ', line ' + p.line + ': ' + fieldWords(p) + p.message }),
      el('p', { text: fieldWords(p) + p.message })]);
  }
  // "Field scope: " before a problem's message, where it names its field.
  function fieldWords(p) {
    return p.field ? 'Field ' + p.field + ': ' : '';
  }
  function renderChanges() {
    var list = clear($('draft-changes')), changes = draft.changes || [];
    changes.forEach(function (c) {
      var li = el('li', { class: 'change' + (c.conflict ? ' conflict' : '') }, [
        c.change === 'removed' ? el('span', { class: 'mono', text: c.path })
          : button(c.path, 'btn-link', function () { openFile(c.path, 0, true); }, { 'aria-label': 'Open ' + c.path }),
        el('p', { text: CHANGE[c.change] || c.change })]);
      if (c.conflict) li.appendChild(el('p', { class: 'error-text', text: 'Warning: someone has published this file since you changed it. Check the changes before you submit.' }));
      list.appendChild(li);
    });
    $('draft-changes-empty').hidden = changes.length > 0;
  }

  // ---------- editing a file ----------
  function openFile(path, line, focus) {
    if (focus !== false && tab !== 'edit') showTab('edit', false);
    var fresh = latest('file');
    keepBuffer();
    say($('file-alert'), '');
    return api('GET', filePath(path)).then(function (res) {
      if (!fresh()) return;
      if (!res.ok || !res.data) {
        if (buffers[path] !== undefined) { show({ path: path, saved: null, live: null }, line, focus); return; }
        say($('file-alert'), res.status === 404 ? 'Your draft has no file ' + path + '.' : problem(res));
        return;
      }
      show({ path: res.data.path, saved: res.data.text, live: res.data.live_text }, line, focus);
    });
  }
  function show(f, line, focus) {
    file = f;
    var ta = $('file-text');
    ta.value = buffers[f.path] !== undefined ? buffers[f.path] : (f.saved || '');
    $('editor-box').hidden = false;
    formShown(false);
    $('file-title').textContent = f.path;
    $('file-text-label').textContent = 'Text of ' + f.path;
    fillFiles();
    $('file-select').value = f.path;
    updateFileState();
    preview();
    position();
    if (line) jumpTo(line);
    else {
      ta.setSelectionRange(0, 0);
      ta.scrollTop = 0;
      position();
      if (focus) ta.focus();
    }
  }
  function keepBuffer() {
    if (!file) return;
    var text = $('file-text').value;
    if (text !== file.saved) buffers[file.path] = text; else delete buffers[file.path];
  }
  function dirty() { return !!file && $('file-text').value !== file.saved; }
  function updateFileState() {
    if (!file) return;
    var change = draft && (draft.changes || []).filter(function (c) { return c.path === file.path; })[0];
    var words = file.saved === null ? 'New file, not saved yet.'
      : dirty() ? 'Unsaved changes.'
        : change ? CHANGE[change.change] + ' in your draft, saved.' : 'As published.';
    $('file-state').textContent = words;
    $('revert').disabled = file.saved === null || (!change && !dirty());
    $('remove').disabled = file.saved === null;
  }
  // Selects line `n` (1-based) of the text and scrolls it into view.
  function jumpTo(n) {
    var ta = $('file-text'), lines = ta.value.split('\n');
    n = Math.max(1, Math.min(n, lines.length));
    var start = 0;
    for (var i = 0; i < n - 1; i++) start += lines[i].length + 1;
    ta.focus();
    ta.setSelectionRange(start, start + lines[n - 1].length);
    var lh = parseFloat(getComputedStyle(ta).lineHeight) || 20;
    ta.scrollTop = Math.max(0, (n - 1) * lh - ta.clientHeight / 3);
    position();
  }
  function position() {
    var ta = $('file-text'), before = ta.value.slice(0, ta.selectionStart), lines = before.split('\n');
    $('file-pos').textContent = 'Line ' + lines.length + ', column ' + (lines[lines.length - 1].length + 1);
  }
  // The preview, as the widget draws it: an article's body (after the +++ front matter), or in
  // an intents file the answer of the topic at the cursor (a facet's, on a facet's line).
  function preview() {
    var ta = $('file-text'), md = file && /\.md$/.test(file.path), toml = file && /^intents\/.*\.toml$/.test(file.path);
    $('preview-box').hidden = !md && !toml;
    if (!md && !toml) return;
    var text = ta.value.replace(/\r\n?/g, '\n');
    if (md) {
      var m = /^\+\+\+\n[\s\S]*?\n\+\+\+[^\n]*(\n|$)/.exec(text);
      $('preview-heading').textContent = 'Preview: the answer as the chat window draws it';
      clear($('preview')).appendChild(renderText(m ? text.slice(m[0].length) : text));
      return;
    }
    var found = answerAt(text, ta.selectionStart);
    $('preview-heading').textContent = found && found.title
      ? 'Preview: ' + found.title + (found.facet ? ', ' + found.facet : '') + ', as the chat window draws it'
      : 'Preview: the answer of the topic at the cursor';
    clear($('preview')).appendChild(found && found.answer !== null ? renderText(found.answer)
      : el('p', { class: 'muted', text: found ? 'This topic has no answer of its own here: it answers with its knowledge-base article, or hands over.'
        : 'Put the cursor in a topic to preview its answer.' }));
  }
  // The [[intent]] table around `offset`: its title and answer, or the facet on the cursor's
  // line. Only the preview reads TOML here; `check` on the server is the real parser.
  function answerAt(text, offset) {
    var found = intentAt(text, offset);
    if (!found) return null;
    var start = found.start, own = found.own;
    var title = tomlString(own, 'title');
    var lineStart = text.lastIndexOf('\n', offset - 1) + 1, lineEnd = text.indexOf('\n', offset);
    var line = text.slice(lineStart, lineEnd < 0 ? text.length : lineEnd);
    var tables = text.slice(start, lineStart).match(/\n\[[^\n]*/g) || [];
    var inFacets = tables.length > 0 && tables[tables.length - 1] === '\n[intent.facets]';
    var facet = inFacets && /^([A-Za-z0-9_-]+)\s*=/.exec(line);
    if (facet) return { title: title, facet: facet[1], answer: tomlString(line, facet[1]) };
    return { title: title, facet: null, answer: tomlString(own, 'answer') };
  }
  // The [[intent]] table around `offset`: where it starts, and its own lines up to the first
  // sub-table (such as [intent.facets]).
  function intentAt(text, offset) {
    var start = text.lastIndexOf('\n[[intent]]', offset - 1);
    if (start < 0 && text.indexOf('[[intent]]') !== 0) return null;
    start = start < 0 ? 0 : start + 1;
    var end = text.indexOf('\n[[intent]]', start + 1);
    return { start: start, own: text.slice(start, end < 0 ? text.length : end).split(/\n\[/)[0] };
  }
  function topicIdAt() {
    var ta = $('file-text'), found = intentAt(ta.value.replace(/\r\n?/g, '\n'), ta.selectionStart);
    return found && tomlString(found.own, 'id');
  }
  // The value of `key = ...` in TOML's four string forms: "basic" (with escapes), 'literal',
  // and the multi-line """ and ''' (a newline straight after the opening quotes is dropped).
  function tomlString(text, key) {
    var k = '^' + key.replace(/-/g, '\\-') + '\\s*=\\s*', m;
    if ((m = new RegExp(k + '"""\\n?([\\s\\S]*?)"""', 'm').exec(text))) return unescapeToml(m[1].replace(/\\\n\s*/g, ''));
    if ((m = new RegExp(k + "'''\\n?([\\s\\S]*?)'''", 'm').exec(text))) return m[1];
    if ((m = new RegExp(k + '"((?:[^"\\\\\\n]|\\\\.)*)"', 'm').exec(text))) return unescapeToml(m[1]);
    if ((m = new RegExp(k + "'([^'\\n]*)'", 'm').exec(text))) return m[1];
    return null;
  }
  function unescapeToml(s) {
    return s.replace(/\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|["\\btnfr])/g, function (_, e) {
      if (e[0] === 'u' || e[0] === 'U') return String.fromCodePoint(parseInt(e.slice(1), 16));
      return { '"': '"', '\\': '\\', b: '\b', t: '\t', n: '\n', f: '\f', r: '\r' }[e];
    });
  }
  function save() {
    if (!file) return;
    var f = file, text = $('file-text').value;
    $('save').disabled = true;
    return api('PUT', filePath(f.path), { text: text }).then(function (res) {
      $('save').disabled = false;
      if (file !== f) return;
      if (!res.ok || !res.data) { say($('file-alert'), 'Not saved. ' + problem(res)); return; }
      f.saved = text;
      if ($('file-text').value === text) delete buffers[f.path];
      setDraft(res.data);
      var here = (res.data.problems || []).filter(function (p) { return p.path === f.path; }).length;
      var all = (res.data.problems || []).length;
      var words = 'Saved ' + f.path + '.' + (all ? ' The draft has ' + plural(all, 'problem') + (here ? ', ' + here + ' in this file' : '') + ': see the list.' : ' No problems.');
      say($('file-alert'), words, !all);
      announce(words);
    });
  }
  function revert() {
    if (!file || file.saved === null) return;
    var f = file;
    return api('POST', filePath(f.path) + '/revert').then(function (res) {
      if (!res.ok || !res.data) { say($('file-alert'), problem(res)); return; }
      delete buffers[f.path];
      setDraft(res.data);
      if (res.data.files.indexOf(f.path) >= 0) {
        file = null;
        openFile(f.path, 0, true).then(function () { announce(f.path + ' is as published again.'); });
      } else { closeFile(); announce(f.path + ' was new: it is no longer in your draft.'); }
    });
  }
  function remove() {
    if (!file || file.saved === null) return;
    var f = file;
    return api('DELETE', filePath(f.path)).then(function (res) {
      if (!res.ok || !res.data) { say($('file-alert'), problem(res)); return; }
      delete buffers[f.path];
      closeFile();
      setDraft(res.data);
      say($('file-alert'), f.path + ' is removed in your draft. Revert it from the changes list, or discard the draft, to bring it back.', true);
    });
  }
  function closeFile() {
    file = null;
    $('file-text').value = '';
    $('editor-box').hidden = true;
    $('file-select').focus();
  }
  function discard() {
    return api('DELETE', '/draft').then(function (res) {
      $('discard-confirm').hidden = true;
      if (!res.ok || !res.data) { say($('file-alert'), problem(res)); return; }
      buffers = {};
      var f = file;
      file = null;
      setDraft(res.data);
      if (f && res.data.files.indexOf(f.path) >= 0) openFile(f.path, 0, true);
      else closeFile();
      say($('file-alert'), 'Your draft is discarded: it is what is published.', true);
    });
  }
  function newFile(e) {
    e.preventDefault();
    var folder = $('new-folder').value, name = $('new-name').value.trim(), input = $('new-name');
    var ext = folder === 'intents' ? '.toml' : '.md';
    if (name && !/\.(md|toml)$/.test(name)) name += ext;
    var error = !FILE_NAME.test(name) ? 'Give a name of lower-case letters, digits and hyphens, ending ' + ext + '.'
      : name.slice(-ext.length) !== ext ? 'Files in ' + folder + ' end ' + ext + '.'
        : draft && draft.files.indexOf(folder + '/' + name) >= 0 ? 'Your draft already has ' + folder + '/' + name + '.' : '';
    if (error) {
      input.setAttribute('aria-invalid', 'true');
      say($('file-alert'), error);
      input.focus();
      return;
    }
    input.removeAttribute('aria-invalid');
    keepBuffer();
    var id = name.replace(/\.(md|toml)$/, ''), today = new Date().toISOString().slice(0, 10);
    var path = folder + '/' + name;
    buffers[path] = folder === 'intents'
      ? '[[intent]]\nid = "' + id + '"\ntitle = ""\nscope = "county"\nexamples = [\n]\nanswer = """\n"""\nlast_reviewed = "' + today + '"\n'
      : '+++\nid = "' + id + '"\ntitle = ""\nquestions = [\n]\ntags = []\nurl = "https://www.hertfordshire.gov.uk/"\nowner = ""\nlast_reviewed = "' + today + '"\n+++\n';
    $('new-file').open = false;
    $('new-name').value = '';
    say($('file-alert'), '');
    show({ path: path, saved: null, live: null }, 0, true);
  }

  // ---------- trying a question ----------
  function decisionText(d) {
    if (!d) return '';
    if (d.kind === 'answer') return 'Answers with ' + (topicTitle(d.id) || d.id) + ' (' + d.id + '), score ' + score(d.confidence) + '.';
    if (d.kind === 'clarify') return 'Asks which one: ' + (d.ids || []).map(function (i) { return topicTitle(i) || i; }).join(', ') + ' (score ' + score(d.confidence) + ').';
    return 'Declines (score ' + score(d.confidence) + ')' + (d.elsewhere ? ': it is ' + (topicTitle(d.elsewhere) || d.elsewhere) + '.' : '.');
  }
  function matchedText(m) {
    if (!m) return '';
    if (m.kind === 'intent' || m.kind === 'article') return 'Matched ' + (topicTitle(m.id) || m.id) + ' (' + m.id + '), score ' + score(m.confidence) + '.';
    if (m.kind === 'clarify') return 'Asks which one (score ' + score(m.confidence) + ').';
    return 'Matched nothing it can answer (score ' + score(m.confidence) + ').';
  }
  function sameReplies(a, b) {
    var key = function (rs) { return JSON.stringify((rs || []).map(function (r) { return [r.text, r.links, r.quick_replies]; })); };
    return key(a) === key(b);
  }
  function tryQuestion(e) {
    e.preventDefault();
    var text = $('try-text').value.trim();
    if (!text) { $('try-status').textContent = 'Type a question to try.'; $('try-text').focus(); return; }
    var fresh = latest('try');
    $('try-go').disabled = true;
    $('try-result').setAttribute('aria-busy', 'true');
    $('try-status').textContent = 'Asking your draft\u2026 After a change the draft is built first, which can take a minute or two.';
    api('POST', '/try', { text: text }).then(function (res) {
      if (!fresh()) return;
      $('try-go').disabled = false;
      $('try-result').removeAttribute('aria-busy');
      if (!res.ok || !res.data) {
        $('try-status').textContent = errorCode(res) === 'invalid_content'
          ? 'Your draft has problems, so it cannot answer. ' + problem(res) : problem(res);
        return;
      }
      var d = res.data, live = d.live || {};
      $('try-result').hidden = false;
      $('try-decision').textContent = decisionText(d.decision);
      $('try-live-decision').textContent = matchedText(live.matched);
      var box = clear($('try-replies'));
      (d.replies || []).forEach(function (r) { box.appendChild(renderReply(r)); });
      var liveBox = clear($('try-live-replies'));
      (live.replies || []).forEach(function (r) { liveBox.appendChild(renderReply(r)); });
      var same = sameReplies(d.replies, live.replies) && (d.matched || {}).id === (live.matched || {}).id;
      var verdict = $('try-verdict');
      verdict.className = 'verdict' + (same ? '' : ' changed');
      verdict.textContent = same ? 'Same as published: your draft answers this as the published content does.'
        : 'Changed: your draft answers this differently from the published content.';
      $('try-normalised').textContent = d.normalised || '';
      var rows = clear($('try-candidates'));
      (d.candidates || []).forEach(function (c, i) {
        rows.appendChild(el('tr', null, [cell(i + 1), cell(topicTitle(c.id) || '\u2014'), cell(el('span', { class: 'mono', text: c.id })), cell(score(c.confidence), 'num')]));
      });
      $('try-status').textContent = '';
      announce('Answered. ' + verdict.textContent);
    });
  }

  // ---------- a topic as a form ----------
  // The server reads and writes the topic's fields (PUT /draft/intents/{id}); it rewrites only
  // the fields that changed, so the file's comments and other topics stay as they are.
  var SCOPE_CHOICES = [['county', 'The county council\u2019s'], ['district', 'A district or borough council\u2019s (asks for the town)'],
    ['conversation', 'Conversation (greetings, thanks)'], ['elsewhere', 'Not the council\u2019s: says who does it']];
  var LISTS = {
    links: { legend: 'Links under the answer', one: 'link', columns: [['title', 'Words'], ['url', 'Address (https://)']] },
    follow_ups: { legend: 'Follow-up buttons', one: 'follow-up', columns: [['label', 'Button words'], ['answer', 'Answer in place', true], ['goto', 'Or the id of the topic it opens']] },
    facets: { legend: 'Answers about one detail (cost, how long, who can apply\u2026)', one: 'detail answer', columns: [['facet', 'Detail (cost, how-long, who-can-apply\u2026)'], ['answer', 'Answer', true], ['goto', 'Or the id of the topic that answers it']] }
  };
  var intentForm = null; // { path, id (null for a new topic), line } while the form is open

  function formShown(shown) {
    $('intent-form-box').hidden = !shown;
    $('text-box').hidden = shown;
    $('form-actions').hidden = shown || !file || !/^intents\/.*\.toml$/.test(file.path);
    if (!shown) intentForm = null;
  }
  function openForm(id) {
    if (!file) return;
    if (dirty()) { say($('file-alert'), 'Save or revert your changes to the text first: the form works on the saved draft.'); return; }
    if (!id) { say($('file-alert'), 'Put the cursor in a topic ([[intent]]) first, or make a new one.'); return; }
    var fresh = latest('form');
    say($('file-alert'), '');
    api('GET', '/draft/intents/' + encodeURIComponent(id)).then(function (res) {
      if (!fresh()) return;
      if (!res.ok || !res.data) { say($('file-alert'), res.status === 404 ? 'Your draft has no topic ' + id + ' that reads as a form: check the file\u2019s problems first.' : problem(res)); return; }
      renderForm(res.data.path, res.data.intent, res.data.line);
      showFieldProblems(res.data.problems || []);
    });
  }
  function newTopicForm() {
    if (!file) return;
    if (dirty()) { say($('file-alert'), 'Save or revert your changes to the text first: the form works on the saved draft.'); return; }
    say($('file-alert'), '');
    renderForm(file.path, { id: '', title: '', scope: 'county', examples: [], answer: '', links: [], follow_ups: [], facets: [], slot: '', ask: '', team: '', offer_person: false, last_reviewed: '' }, null);
  }
  function fieldBox(name, label, control, hint) {
    control.id = 'f-' + name;
    control.setAttribute('data-key', name);
    var ids = [];
    var box = el('div', { class: 'field form-field', 'data-field': name }, [el('label', { for: control.id, text: label })]);
    if (hint) { box.appendChild(el('p', { class: 'muted hint', id: control.id + '-hint', text: hint })); ids.push(control.id + '-hint'); }
    box.appendChild(control);
    box.appendChild(el('p', { class: 'field-error', id: control.id + '-error', hidden: true }));
    ids.push(control.id + '-error');
    control.setAttribute('aria-describedby', ids.join(' '));
    return box;
  }
  function input(value, type) { var i = el('input', { type: type || 'text', autocomplete: 'off', spellcheck: 'false' }); i.value = value || ''; return i; }
  function area(value, rows) { var t = el('textarea', { rows: String(rows || 4) }); t.value = value || ''; return t; }
  function choice(value, options) {
    var s = el('select');
    options.forEach(function (o) { s.appendChild(el('option', { value: o[0], text: o[1] })); });
    s.value = value || options[0][0];
    return s;
  }
  // A list of rows (links, follow-ups, detail answers), each a few fields and a Remove button.
  function listBox(name, items) {
    var spec = LISTS[name], list = el('ol', { class: 'form-rows' });
    var box = el('fieldset', { class: 'form-field form-list', 'data-field': name, 'aria-describedby': 'f-' + name + '-error' }, [
      el('legend', { text: spec.legend }), list, el('p', { class: 'field-error', id: 'f-' + name + '-error', hidden: true })]);
    function addRow(item) {
      var n = list.children.length + 1, row = el('li', { class: 'form-row' });
      spec.columns.forEach(function (c) {
        var control = c[2] ? area(item[c[0]], 2) : input(item[c[0]]);
        control.setAttribute('data-key', c[0]);
        control.setAttribute('aria-label', spec.one.charAt(0).toUpperCase() + spec.one.slice(1) + ' ' + n + ': ' + c[1]);
        // The control is named by its aria-label (with the row's number); the words above it are for the eye.
        row.appendChild(el('div', { class: 'row-field' }, [el('span', { 'aria-hidden': 'true', text: c[1] }), control]));
      });
      row.appendChild(button('Remove', 'btn btn-small', function () {
        var next = row.nextElementSibling || row.previousElementSibling;
        row.remove();
        (next ? next.querySelector('input, textarea') : add).focus();
      }, { 'aria-label': 'Remove ' + spec.one + ' ' + n }));
      list.appendChild(row);
      return row;
    }
    var add = button('Add a ' + spec.one, 'btn btn-small', function () { addRow({}).querySelector('input, textarea').focus(); });
    (items || []).forEach(addRow);
    box.insertBefore(add, box.lastChild);
    return box;
  }
  function renderForm(path, intent, line) {
    intentForm = { path: path, id: intent.id || null, line: line };
    var form = clear($('intent-form'));
    $('intent-form-heading').textContent = intent.id ? 'Topic ' + intent.id + ' in ' + path : 'A new topic in ' + path;
    say($('intent-form-alert'), '');
    var answer = area(intent.answer, 8), answerPreview = el('div', { class: 'preview', 'aria-live': 'off' });
    var drawAnswer = function () {
      clear(answerPreview).appendChild(answer.value.trim() ? renderText(answer.value)
        : el('p', { class: 'muted', text: 'No answer of its own: the article with the same id answers, or the topic hands over.' }));
    };
    answer.addEventListener('input', drawAnswer);
    [
      fieldBox('id', 'Id', input(intent.id), 'Lower-case letters, digits and hyphens. Other topics refer to it by this.'),
      fieldBox('title', 'Title', input(intent.title)),
      fieldBox('scope', 'Whose service it is', choice(intent.scope || 'county', SCOPE_CHOICES)),
      fieldBox('examples', 'Phrasings residents use, one a line', area((intent.examples || []).join('\n'), 8),
        'Include situations described without the service\u2019s name, and informal wording.'),
      fieldBox('answer', 'Answer', answer, 'Markdown as the chat window draws it: paragraphs, **bold**, lists with -, [links](https://...).'),
      el('section', { class: 'preview-box', 'aria-label': 'Preview of the answer' }, [el('h4', { text: 'Preview: the answer as the chat window draws it' }), answerPreview]),
      listBox('links', intent.links),
      listBox('follow_ups', intent.follow_ups),
      listBox('facets', intent.facets),
      fieldBox('slot', 'Detail it asks the resident for', choice(intent.slot, [['', 'None'], ['place', 'Their town (names the district council)']])),
      fieldBox('ask', 'How it asks for that detail', input(intent.ask)),
      fieldBox('team', 'Contact-centre team a handoff goes to', input(intent.team)),
      (function () {
        var c = el('input', { type: 'checkbox', id: 'f-offer_person', 'data-key': 'offer_person' });
        c.checked = !!intent.offer_person;
        return el('div', { class: 'field field-check form-field', 'data-field': 'offer_person' }, [c, el('label', { for: 'f-offer_person', text: 'Offer to talk to a person with the answer' })]);
      }()),
      fieldBox('last_reviewed', 'Last reviewed', input(intent.last_reviewed, 'date')),
      el('div', { class: 'actions' }, [el('button', { type: 'submit', class: 'btn btn-primary', text: 'Save topic to draft' }),
        button('Back to the text', 'btn', closeForm)])
    ].forEach(function (node) { form.appendChild(node); });
    drawAnswer();
    formShown(true);
    $('intent-form-heading').focus();
  }
  function closeForm() {
    var line = intentForm && intentForm.line;
    formShown(false);
    if (line) jumpTo(line); else $('file-text').focus();
  }
  // The form's fields as the API takes them.
  function formValues() {
    var form = $('intent-form'), value = function (k) { return form.querySelector('[data-key="' + k + '"]:not(.form-row *)').value.trim(); };
    var rows = function (name) {
      return Array.prototype.map.call(form.querySelectorAll('[data-field="' + name + '"] .form-row'), function (row) {
        var item = {};
        LISTS[name].columns.forEach(function (c) { item[c[0]] = row.querySelector('[data-key="' + c[0] + '"]').value.trim(); });
        return item;
      }).filter(function (item) { return Object.keys(item).some(function (k) { return item[k]; }); });
    };
    return {
      id: value('id'), title: value('title'), scope: value('scope'),
      examples: form.querySelector('#f-examples').value.split('\n').map(function (l) { return l.trim(); }).filter(Boolean),
      answer: value('answer'), links: rows('links'), follow_ups: rows('follow_ups'), facets: rows('facets'),
      slot: value('slot'), ask: value('ask'), team: value('team'),
      offer_person: form.querySelector('#f-offer_person').checked, last_reviewed: value('last_reviewed')
    };
  }
  // Each problem beside its field (`facets.cost` beside the detail answers); any other in the alert.
  function showFieldProblems(problems) {
    var form = $('intent-form');
    Array.prototype.forEach.call(form.querySelectorAll('.field-error'), function (p) { clear(p).hidden = true; });
    Array.prototype.forEach.call(form.querySelectorAll('[aria-invalid]'), function (c) { c.removeAttribute('aria-invalid'); });
    var elsewhere = [];
    problems.forEach(function (p) {
      var box = p.field && form.querySelector('[data-field="' + p.field.split('.')[0] + '"]');
      if (!box) { elsewhere.push(p.message); return; }
      var err = box.querySelector('.field-error');
      err.hidden = false;
      err.appendChild(el('span', { text: p.message }));
      var control = box.querySelector('#f-' + p.field.split('.')[0]);
      (control || box).setAttribute('aria-invalid', 'true');
    });
    if (elsewhere.length) say($('intent-form-alert'), elsewhere.join(' '));
    return problems.length;
  }
  function saveForm(e) {
    e.preventDefault();
    if (!intentForm || !file) return;
    var values = formValues(), target = intentForm.id || values.id, body = { intent: values };
    if (!target) { showFieldProblems([{ field: 'id', message: 'Give the topic an id: lower-case letters, digits and hyphens.' }]); $('f-id').focus(); return; }
    if (!intentForm.id) body.path = intentForm.path;
    var submitButton = $('intent-form').querySelector('button[type="submit"]');
    submitButton.disabled = true;
    api('PUT', '/draft/intents/' + encodeURIComponent(target), body).then(function (res) {
      submitButton.disabled = false;
      if (!res.ok || !res.data) {
        var field = res.data && res.data.error && res.data.error.field;
        if (field && showFieldProblems([{ field: field, message: res.data.error.message }])) {
          var control = $('f-' + field.split('.')[0]) || $('intent-form').querySelector('[data-field="' + field.split('.')[0] + '"] input, [data-field="' + field.split('.')[0] + '"] textarea');
          if (control) control.focus();
          say($('intent-form-alert'), 'Not saved: ' + res.data.error.message);
        } else say($('intent-form-alert'), 'Not saved. ' + problem(res));
        return;
      }
      var view = res.data;
      intentForm = { path: view.path, id: view.intent.id, line: view.line };
      $('intent-form-heading').textContent = 'Topic ' + view.intent.id + ' in ' + view.path;
      setDraft(view.draft);
      var n = showFieldProblems(view.problems || []);
      var words = 'Saved ' + view.intent.id + ' to your draft.' + (n ? ' ' + plural(n, 'problem') + ' with it, shown beside ' + (n === 1 ? 'its field' : 'their fields') + '.' : ' No problems with it.');
      if (!n) say($('intent-form-alert'), words, true);
      announce(words);
      // The text view shows the file as saved.
      api('GET', filePath(view.path)).then(function (r) {
        if (!r.ok || !r.data || !file || file.path !== view.path) return;
        file.saved = r.data.text;
        $('file-text').value = r.data.text;
        delete buffers[view.path];
        updateFileState();
      });
    });
  }

  // ---------- diffs and submitting ----------
  function renderDiff(box, files) {
    clear(box);
    var added = 0, removed = 0;
    files.forEach(function (f) {
      var section = el('section', { class: 'diff-file', 'aria-label': f.path + ': ' + (CHANGE[f.change] || f.change).toLowerCase() }, [
        el('h3', { text: f.path + ' \u2014 ' + (CHANGE[f.change] || f.change) })]);
      if ((f.items || []).length) {
        section.appendChild(el('p', { class: 'diff-sub', text: 'By topic and field' }));
        (f.items || []).forEach(function (item) { section.appendChild(itemDiff(item)); });
        section.appendChild(el('p', { class: 'diff-sub', text: 'Line by line' }));
      }
      (f.hunks || []).forEach(function (h) {
        section.appendChild(el('p', { class: 'diff-head', text: h.header }));
        var list = el('ul', { class: 'diff-lines' });
        (h.lines || []).forEach(function (l) {
          var tag = l.op === '+' ? 'ins' : l.op === '-' ? 'del' : 'span';
          if (l.op === '+') added++; else if (l.op === '-') removed++;
          var words = l.op === '+' ? 'Added: ' : l.op === '-' ? 'Removed: ' : '';
          list.appendChild(el('li', null, [el(tag, { class: 'diff-line' }, [
            el('span', { class: 'op', 'aria-hidden': 'true', text: l.op === ' ' ? ' ' : l.op }),
            words ? el('span', { class: 'sr', text: words }) : null,
            document.createTextNode(l.text)])]));
        });
        section.appendChild(list);
      });
      box.appendChild(section);
    });
    return { added: added, removed: removed };
  }
  var KIND = { intent: 'Topic', article: 'Article', district: 'District', facet: 'Detail kind', setting: 'Setting' };
  // One topic's changed fields: a value before and after, or a list's items added and removed.
  function itemDiff(item) {
    var rows = el('tbody');
    (item.fields || []).forEach(function (f) {
      var change = el('div', { class: 'field-change' });
      if ((f.added || []).length || (f.removed || []).length) {
        var list = el('ul', { class: 'diff-lines' });
        (f.removed || []).forEach(function (x) { list.appendChild(el('li', null, [el('del', { class: 'diff-item' }, [el('span', { class: 'op', 'aria-hidden': 'true', text: '-' }), el('span', { class: 'sr', text: 'Removed: ' }), x])])); });
        (f.added || []).forEach(function (x) { list.appendChild(el('li', null, [el('ins', { class: 'diff-item' }, [el('span', { class: 'op', 'aria-hidden': 'true', text: '+' }), el('span', { class: 'sr', text: 'Added: ' }), x])])); });
        change.appendChild(list);
      } else {
        if (f.before !== null && f.before !== undefined) change.appendChild(el('del', { class: 'diff-value' }, [el('span', { class: 'sr', text: 'Before: ' }), f.before]));
        if (f.after !== null && f.after !== undefined) change.appendChild(el('ins', { class: 'diff-value' }, [el('span', { class: 'sr', text: 'After: ' }), f.after]));
        if ((f.before === null || f.before === undefined) && f.after !== null && f.after !== undefined) change.insertBefore(el('p', { class: 'muted', text: 'New field.' }), change.firstChild);
        if (f.after === null || f.after === undefined) change.appendChild(el('p', { class: 'muted', text: 'Field removed.' }));
      }
      rows.appendChild(el('tr', null, [el('th', { scope: 'row', class: 'mono', text: f.field }), cell(change)]));
    });
    var title = (KIND[item.kind] || item.kind) + ' ' + item.id + ' \u2014 ' + (CHANGE[item.change] || item.change).toLowerCase();
    return el('div', { class: 'item-diff' }, [el('p', { class: 'item-diff-head', text: title }),
      el('table', { class: 'data field-diff', 'aria-label': title }, [
        el('thead', null, [el('tr', null, [el('th', { scope: 'col', text: 'Field' }), el('th', { scope: 'col', text: 'Change' })])]), rows])]);
  }
  function loadDiff() {
    var fresh = latest('diff');
    api('GET', '/draft/diff').then(function (res) {
      if (!fresh()) return;
      if (!res.ok || !res.data) { $('diff-summary').textContent = problem(res); return; }
      var files = res.data.files || [];
      var n = renderDiff($('diff'), files);
      $('diff-summary').textContent = files.length
        ? plural(files.length, 'file') + ' changed: ' + plural(n.added, 'line') + ' added (+), ' + plural(n.removed, 'line') + ' removed (-).'
        : 'No changes: your draft is what is published. A submission without changes is still recorded.';
    });
    loadDraft();
  }
  function submit(e) {
    e.preventDefault();
    var message = $('submit-message').value.trim();
    $('submit-go').disabled = true;
    say($('submit-alert'), '');
    announce('Checking and submitting your draft\u2026');
    api('POST', '/submissions', { message: message }).then(function (res) {
      $('submit-go').disabled = false;
      if (res.ok && res.data) {
        $('submit-message').value = '';
        say($('submit-alert'), 'Submitted for review as number ' + res.data.id + '. An approver other than you can now approve or reject it.', true);
        loadSubmissionCount();
        return;
      }
      if (errorCode(res) !== 'invalid_content') { say($('submit-alert'), 'Not submitted. ' + problem(res)); return; }
      loadDraft().then(function () {
        var problems = (draft && draft.problems) || [];
        var list = problems.length ? el('ul', { class: 'problems' }, problems.map(problemItem)) : null;
        say($('submit-alert'), 'Not submitted: the draft has problems. Fix them and submit again.' + (list ? '' : '\n' + problem(res)), false, list);
      });
    });
  }

  // ---------- review ----------
  function waitingOf(list) { return list.filter(function (s) { return s.status === 'submitted' || s.status === 'scheduled'; }); }
  function loadSubmissionCount() {
    api('GET', '/submissions').then(function (res) {
      if (res.ok && res.data) $('review-count').textContent = countText(waitingOf(res.data.submissions || []).length);
    });
  }
  function countText(n) { return n ? '(' + n + ')' : ''; }
  function loadSubmissions() {
    var fresh = latest('submissions');
    $('review-note').textContent = canApprove()
      ? (me && me.roles ? 'You can approve or reject changes, except your own.' : 'Approving and rejecting need the approver role; nobody can approve their own change.')
      : 'You can read what is waiting; approving and rejecting need the approver role.';
    return api('GET', '/submissions').then(function (res) {
      if (!fresh()) return;
      if (!res.ok || !res.data) { $('review-note').textContent = problem(res); return; }
      var all = res.data.submissions || [], waiting = waitingOf(all);
      var decided = all.filter(function (s) { return waiting.indexOf(s) < 0; });
      var focusId = document.activeElement && document.activeElement.closest && document.activeElement.closest('[data-submission]');
      focusId = focusId && focusId.getAttribute('data-submission');
      var ul = clear($('waiting'));
      waiting.forEach(function (s) { ul.appendChild(submissionCard(s, true)); });
      var dl = clear($('decided'));
      decided.forEach(function (s) { dl.appendChild(submissionCard(s, false)); });
      $('waiting-empty').hidden = waiting.length > 0;
      $('decided-empty').hidden = decided.length > 0;
      $('review-count').textContent = countText(waiting.length);
      if (focusId) { var again = document.querySelector('[data-submission="' + focusId + '"] h4'); if (again) again.focus(); }
    });
  }
  function submissionCard(s, open) {
    var id = 'sub-' + s.id;
    var facts = el('dl', { class: 'facts' }, [
      el('dt', { text: 'Submitted' }), el('dd', { text: when(s.submitted_at) }),
      el('dt', { text: 'Status' }), el('dd', { text: statusText(s) })]);
    if (s.decided_by) facts.append(el('dt', { text: 'Decided by' }), el('dd', { text: s.decided_by + (s.decided_at ? ', ' + when(s.decided_at) : '') }));
    if (s.comment) facts.append(el('dt', { text: 'Comment' }), el('dd', { class: 'text', text: s.comment }));
    var card = el('li', { class: 'card', 'data-submission': String(s.id) }, [
      el('h4', { id: id + '-title', tabindex: '-1', text: 'Submission ' + s.id + ' by ' + s.author }),
      facts,
      el('p', { class: 'text', text: s.message ? s.message : 'No message.' })]);
    if (!open) return card;
    var alert = el('div', { role: 'alert', id: id + '-alert' });
    var diff = el('div', { id: id + '-diff' }, [el('p', { class: 'muted', text: 'Loading the changes\u2026' })]);
    card.appendChild(el('h5', { class: 'sr', text: 'Changes in submission ' + s.id }));
    card.appendChild(diff);
    api('GET', '/submissions/' + s.id + '/diff').then(function (res) {
      if (!res.ok || !res.data) { clear(diff).appendChild(el('p', { class: 'muted', text: problem(res) })); return; }
      var files = res.data.files || [];
      var n = renderDiff(diff, files);
      diff.insertBefore(el('p', { class: 'muted', text: files.length
        ? plural(files.length, 'file') + ' changed: ' + plural(n.added, 'line') + ' added (+), ' + plural(n.removed, 'line') + ' removed (-).'
        : 'No changes against what is published now.' }), diff.firstChild);
    });
    if (!canApprove()) return card;
    var comment = el('textarea', { id: id + '-comment', rows: '2', maxlength: '500', 'aria-describedby': id + '-comment-hint' });
    var scheduled = s.status === 'scheduled';
    var reject = button(scheduled ? 'Cancel and reject' : 'Reject', 'btn btn-danger', function () { decide(s, 'reject', card, alert, comment); },
      { 'aria-describedby': id + '-title' });
    if (!scheduled) {
      // Empty publishes now; a time publishes then, on whichever instance sees it due first.
      var at = el('input', { type: 'datetime-local', id: id + '-at', 'aria-describedby': id + '-at-hint' });
      var approve = button('Approve and publish', 'btn btn-primary', function () { decide(s, 'approve', card, alert, null, at); },
        { 'aria-describedby': id + '-title' });
      card.appendChild(el('div', { class: 'actions', role: 'group', 'aria-label': 'Decide submission ' + s.id }, [
        el('label', { for: id + '-at', text: 'Publish at (optional)' }), at, approve,
        el('p', { class: 'muted hint', id: id + '-at-hint', text: 'Leave empty to publish now, or choose a time within a year, in your time zone.' })]));
    }
    card.appendChild(el('div', { class: 'reject-box' }, [
      el('label', { for: id + '-comment', text: scheduled ? 'Why you cancel it (required, the author reads it)' : 'Why you reject it (required, the author reads it)' }),
      el('p', { class: 'muted hint', id: id + '-comment-hint', text: 'Say what to change.' }),
      comment, reject]));
    card.appendChild(alert);
    return card;
  }
  function statusText(s) {
    var t = STATUS[s.status] || s.status;
    if (s.status === 'published' && s.version) t += ' as version ' + s.version;
    if (s.status === 'scheduled' && s.publish_at) t += ', at ' + when(s.publish_at);
    return t;
  }
  function decide(s, action, card, alert, comment, at) {
    var body;
    if (action === 'approve' && at) {
      at.removeAttribute('aria-invalid');
      var moment = at.value ? new Date(at.value) : null;
      if (moment && (isNaN(moment) || moment.getTime() <= Date.now())) {
        refuse(at, alert, 'Choose a time in the future, or leave it empty to publish now.');
        return;
      }
      if (moment) body = { at: moment.toISOString() };
    }
    if (action === 'reject') {
      var why = comment.value.trim();
      if (!why) {
        refuse(comment, alert, 'Say why you reject it: the comment is required.');
        return;
      }
      comment.removeAttribute('aria-invalid');
      body = { comment: why };
    }
    cardBusy(card, true);
    say(alert, action === 'approve' ? (body ? 'Scheduling\u2026' : 'Publishing\u2026') : 'Rejecting\u2026', true);
    api('POST', '/submissions/' + s.id + '/' + action, body).then(function (res) {
      cardBusy(card, false);
      if (!res.ok) {
        var why = problem(res);
        if (res.status === 403 && errorCode(res) === 'forbidden' && /approver role/.test(why)) why = 'You cannot decide submissions: this needs the approver role.';
        say(alert, (action === 'approve' ? 'Not approved. ' : 'Not rejected. ') + why);
        return;
      }
      var words = action === 'reject' ? 'Submission ' + s.id + ' rejected. Its author sees your comment.'
        : res.status === 202 ? 'Submission ' + s.id + ' approved, to be published at ' + when(res.data && res.data.publish_at) + '.'
          : 'Submission ' + s.id + ' approved and published as version ' + (res.data && res.data.version ? res.data.version.number : '?') + '. Every instance serves it within seconds.';
      announce(words);
      showNotice('');
      loadSubmissions().then(function () {
        var region = $('review-note');
        region.textContent = words;
        $('review-heading').focus();
      });
      loadDraft();
    });
  }

  // ---------- history ----------
  function loadHistory() {
    var fresh = latest('history');
    api('GET', '/versions').then(function (res) {
      if (!fresh()) return;
      if (!res.ok || !res.data) { $('versions-note').textContent = problem(res); return; }
      var body = clear($('versions')), list = res.data.versions || [], serving = res.data.serving;
      $('versions-note').textContent = serving ? 'This instance serves version ' + serving + '.' : '';
      list.forEach(function (v) {
        var name = el('span', null, ['Version ' + v.number]);
        if (v.number === serving) name.appendChild(el('span', { class: 'tag tag-ok serving', text: ' Serving now' }));
        var message = (v.message || '') + (v.restores ? (v.message ? ' ' : '') + '(restores version ' + v.restores + ')' : '');
        var action = el('div');
        if (v.number !== serving && canApprove()) action.appendChild(restoreButton(v, action));
        body.appendChild(el('tr', null, [cell(name), cell(when(v.published_at)), cell(v.author), cell(v.approved_by || ''),
          cell(el('span', { class: 'text', text: message })), cell(v.intents, 'num'), cell(v.articles, 'num'), cell(action)]));
      });
      rowsShown(body, list.length, $('versions-empty'));
    });
    api('GET', '/audit').then(function (res) {
      if (!fresh() || !res.ok || !res.data) return;
      var body = clear($('audit')), list = res.data.entries || [];
      list.forEach(function (a) {
        body.appendChild(el('tr', null, [cell(when(a.at)), cell(a.who), cell(ACTION[a.action] || a.action),
          cell(a.submission ? String(a.submission) : ''), cell(a.version ? String(a.version) : ''), cell(el('span', { class: 'text', text: a.note || '' }))]));
      });
      rowsShown(body, list.length, $('audit-empty'));
    });
  }
  // Restoring publishes an old version again: asked once more, in the page.
  function restoreButton(v, box) {
    return button('Restore version ' + v.number, 'btn btn-small', function () {
      clear(box);
      var yes = button('Yes, publish version ' + v.number + ' again', 'btn btn-small btn-danger', function () { restore(v, box); });
      box.appendChild(el('div', { class: 'confirm', role: 'group', 'aria-label': 'Restore version ' + v.number + '?' }, [
        el('p', { text: 'Publish version ' + v.number + ' again for every resident?' }), yes,
        button('Cancel', 'btn btn-small', function () { clear(box).appendChild(restoreButton(v, box)); box.querySelector('button').focus(); })]));
      yes.focus();
    });
  }
  function restore(v, box) {
    Array.prototype.forEach.call(box.querySelectorAll('button'), function (b) { b.disabled = true; });
    say($('history-alert'), 'Restoring version ' + v.number + '\u2026', true);
    api('POST', '/versions/' + v.number + '/restore').then(function (res) {
      if (!res.ok || !res.data) {
        Array.prototype.forEach.call(box.querySelectorAll('button'), function (b) { b.disabled = false; });
        say($('history-alert'), 'Not restored. ' + (res.status === 403 && /approver role/.test(problem(res)) ? 'Restoring needs the approver role.' : problem(res)));
        return;
      }
      say($('history-alert'), 'Version ' + v.number + ' published again as version ' + res.data.version.number + '. Every instance serves it within seconds.', true);
      loadHistory();
      loadDraft();
    });
  }

  // ---------- due for review ----------
  function loadDue() {
    var fresh = latest('due');
    api('GET', '/review').then(function (res) {
      if (!fresh() || !res.ok || !res.data) return;
      var r = res.data, h = clear($('holidays'));
      if (r.bank_holidays_listed_far_enough) h.appendChild(el('p', { text: 'Bank holidays are listed until ' + day(r.bank_holidays_until) + '.' }));
      else say(h, 'Bank holidays are listed only until ' + (day(r.bank_holidays_until) || 'no date') + ': add the next year\u2019s, or opening hours will be wrong.');
      dueRows($('overdue'), r.overdue || []);
      dueRows($('soon'), r.due_soon || []);
      rowsShown($('overdue'), (r.overdue || []).length, $('overdue-empty'));
      rowsShown($('soon'), (r.due_soon || []).length, $('soon-empty'));
    });
  }
  function dueRows(body, items) {
    clear(body);
    items.forEach(function (it) {
      var at = topicAt(it.id), m = /^(.*):(\d+)$/.exec(it.source || '');
      var path = at ? at.path : m ? m[1] : '', line = at ? at.line : m ? +m[2] : 0;
      var open = path ? button(it.title, 'btn-link', function () { openFile(path, line, true); }, { 'aria-label': 'Open ' + it.title + ' at ' + path + ', line ' + line })
        : el('span', { text: it.title });
      body.appendChild(el('tr', null, [cell(open), cell(it.kind === 'article' ? 'Article' : 'Topic'), cell(day(it.last_reviewed)), cell(day(it.due)), cell(it.source)]));
    });
  }

  // ---------- insights ----------
  var SERIES = [['answered', 'Answered', 's-answered'], ['clarified', 'Asked which one', 's-clarified'], ['declined', 'Declined', 's-declined']];
  function loadInsights() {
    var fresh = latest('insights'), days = $('period').value;
    api('GET', '/insights?days=' + encodeURIComponent(days)).then(function (res) {
      if (!fresh() || !res.ok || !res.data) return;
      var d = res.data, t = d.totals || {};
      var totals = clear($('totals'));
      [['Conversations', t.conversations], ['Answered', t.answered], ['Asked which one', t.clarified], ['Declined', t.declined],
        ['Handed to a person', t.handed_off], ['Helpful', t.helpful], ['Not helpful', t.unhelpful],
        ['Resolved without a person', d.containment === null || d.containment === undefined ? 'No data' : percent(d.containment)]]
        .forEach(function (p) { totals.appendChild(el('div', null, [el('dt', { text: p[0] }), el('dd', { text: String(p[1] === undefined ? 0 : p[1]) })])); });
      chart(d);
      var rows = function (tbody, list, first) {
        clear(tbody);
        list.forEach(function (x) {
          var n = x.tally || {};
          tbody.appendChild(el('tr', null, [cell(first(x)), cell(n.answered || 0, 'num'), cell(n.clarified || 0, 'num'), cell(n.declined || 0, 'num'),
            cell(n.handed_off || 0, 'num'), cell(n.helpful || 0, 'num'), cell(n.unhelpful || 0, 'num')]));
        });
      };
      rows($('days'), d.by_day || [], function (x) { return day(x.day); });
      rows($('by-topic'), d.by_topic || [], function (x) { return x.title ? x.title + ' (' + x.topic + ')' : x.topic; });
      rowsShown($('by-topic'), (d.by_topic || []).length, $('by-topic-empty'));
    });
  }
  // Stacked bars per day, drawn in SVG: an image whose label sums it up; the table below
  // gives every figure.
  function chart(d) {
    var list = d.by_day || [], box = clear($('chart')), legend = clear($('legend'));
    SERIES.forEach(function (s) {
      var sw = svg('svg', { width: '14', height: '14', viewBox: '0 0 14 14' });
      sw.appendChild(svg('rect', { width: '14', height: '14', class: s[2] }));
      legend.appendChild(el('li', null, [sw, s[1]]));
    });
    var max = 1, sums = { answered: 0, clarified: 0, declined: 0 };
    list.forEach(function (x) {
      var n = x.tally || {}, total = 0;
      SERIES.forEach(function (s) { total += n[s[0]] || 0; sums[s[0]] += n[s[0]] || 0; });
      max = Math.max(max, total);
    });
    var barW = list.length > 40 ? 8 : 16, gap = list.length > 40 ? 2 : 6, left = 36, top = 10, h = 160;
    var width = left + list.length * (barW + gap) + 10, height = top + h + 24;
    var label = 'Bar chart of questions per day, ' + day(d.from) + ' to ' + day(d.to) + ': ' +
      SERIES.map(function (s) { return sums[s[0]] + ' ' + s[1].toLowerCase(); }).join(', ') +
      '; the busiest day had ' + (max === 1 && !sums.answered && !sums.clarified && !sums.declined ? 'none' : max) + '. The table below gives each day\u2019s figures.';
    var root = svg('svg', { role: 'img', 'aria-label': label, width: String(width), height: String(height), viewBox: '0 0 ' + width + ' ' + height, focusable: 'false' });
    root.appendChild(svg('line', { class: 'axis', x1: String(left - 4), y1: String(top + h), x2: String(width - 4), y2: String(top + h) }));
    root.appendChild(svg('text', { class: 'axis-text', x: String(left - 8), y: String(top + 8), 'text-anchor': 'end', text: String(max) }));
    root.appendChild(svg('text', { class: 'axis-text', x: String(left - 8), y: String(top + h), 'text-anchor': 'end', text: '0' }));
    list.forEach(function (x, i) {
      var n = x.tally || {}, y = top + h, bx = left + i * (barW + gap);
      SERIES.forEach(function (s) {
        var v = n[s[0]] || 0, bh = v / max * h;
        if (!v) return;
        y -= bh;
        root.appendChild(svg('rect', { class: s[2], x: String(bx), y: y.toFixed(1), width: String(barW), height: bh.toFixed(1) }));
      });
    });
    if (list.length) {
      root.appendChild(svg('text', { class: 'axis-text', x: String(left), y: String(top + h + 16), text: day(list[0].day) }));
      root.appendChild(svg('text', { class: 'axis-text', x: String(width - 10), y: String(top + h + 16), 'text-anchor': 'end', text: day(list[list.length - 1].day) }));
    }
    box.appendChild(root);
  }
  // The CSV needs the bearer header, so it is fetched here and offered as a download.
  function downloadCsv() {
    var days = $('period').value;
    $('csv').disabled = true;
    fetch(API + '/insights.csv?days=' + encodeURIComponent(days), { headers: { Authorization: 'Bearer ' + token }, cache: 'no-store', credentials: 'omit' })
      .then(function (res) {
        if (!res.ok) return res.json().then(function (d) { throw new Error((d && d.error && d.error.message) || 'The CSV could not be made.'); }, function () { throw new Error('The CSV could not be made (' + res.status + ').'); });
        return res.blob();
      })
      .then(function (blob) {
        var url = URL.createObjectURL(blob), a = el('a', { href: url, download: 'insights-' + days + '-days.csv', hidden: true });
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
        announce('The CSV is downloaded.');
      }, function (e) { showNotice(e.message || 'The service cannot be reached.'); })
      .then(function () { $('csv').disabled = false; });
  }
  function loadGroups() {
    var fresh = latest('groups');
    return api('GET', '/unanswered/groups').then(function (res) {
      if (!fresh() || !res.ok || !res.data) return;
      var ul = clear($('groups')), groups = res.data.groups || [];
      groups.forEach(function (g, i) { ul.appendChild(groupCard(g, i)); });
      $('groups-empty').hidden = groups.length > 0;
    });
  }
  function groupCard(g, i) {
    var id = 'group-' + i, alert = el('div', { role: 'alert' });
    var card = el('li', { class: 'card', 'data-group': String(i) }, [
      el('h4', { id: id + '-title', class: 'text', text: '\u201c' + g.sample + '\u201d' }),
      el('dl', { class: 'facts' }, [
        el('dt', { text: 'Asked' }), el('dd', { text: plural(g.count, 'time') }),
        el('dt', { text: 'Nearest topic' }), el('dd', { text: g.best ? (g.title || topicTitle(g.best) || g.best) + ' (' + g.best + ')' : 'None' })])]);
    if ((g.questions || []).length > 1) {
      card.appendChild(el('details', null, [el('summary', { text: 'All ' + g.questions.length + ' questions' }),
        el('ul', null, g.questions.map(function (q) { return el('li', { class: 'text', text: q }); }))]));
    }
    var actions = el('div', { class: 'actions', role: 'group', 'aria-labelledby': id + '-title' });
    var choice = topicChoice(id + '-topic', g.best);
    actions.appendChild(el('label', { for: id + '-topic', text: 'Topic' }));
    actions.appendChild(choice);
    actions.appendChild(button('Add as phrasing', 'btn btn-primary', function () { addPhrasing(g, choice, card, alert); },
      { 'aria-describedby': id + '-title' }));
    actions.appendChild(button('Dismiss', 'btn', function () { dismiss(g, card, alert, null); }, { 'aria-describedby': id + '-title' }));
    card.appendChild(actions);
    card.appendChild(alert);
    return card;
  }
  // Every topic, grouped by whose it is; a question that is not the council's is added to the
  // not-the-council topic that says who deals with it, so the assistant declines it and says so.
  var CHOICE_GROUPS = [['county', 'The county council'], ['district', 'District councils'],
    ['elsewhere', 'Not the council\u2019s: says who deals with it'], ['conversation', 'Conversation']];
  function topicChoice(id, best) {
    var topics = (draft && draft.topics) || [];
    var select = el('select', { id: id }, [el('option', { value: '', text: 'Choose a topic' })]);
    CHOICE_GROUPS.forEach(function (group) {
      var members = topics.filter(function (t) { return t.scope === group[0]; });
      if (!members.length) return;
      select.appendChild(el('optgroup', { label: group[1] }, members.map(function (t) {
        return el('option', { value: t.id, text: t.title + ' (' + t.id + ')' });
      })));
    });
    select.value = topics.some(function (t) { return t.id === best; }) ? best : '';
    return select;
  }
  function addPhrasing(g, choice, card, alert) {
    var topic = choice.value;
    if (!topic) {
      refuse(choice, alert, 'Choose the topic the question belongs to.');
      return;
    }
    choice.removeAttribute('aria-invalid');
    cardBusy(card, true);
    api('POST', '/draft/phrasings', { topic: topic, text: g.sample }).then(function (res) {
      if (!res.ok || !res.data) {
        cardBusy(card, false);
        say(alert, 'Not added. ' + problem(res));
        return;
      }
      setDraft(res.data);
      var t = topicAt(topic);
      dismiss(g, card, alert, 'Added \u201c' + g.sample + '\u201d to the phrasings of ' + ((t && t.title) || topic) + (t ? ' in ' + t.path : '') + ' in your draft.');
    });
  }
  function dismiss(g, card, alert, done) {
    cardBusy(card, true);
    api('POST', '/unanswered/dismiss', { texts: (g.questions && g.questions.length ? g.questions : [g.sample]).slice(0, 100) }).then(function (res) {
      if (!res.ok) {
        cardBusy(card, false);
        say(alert, (done ? done + ' ' : '') + 'The questions were not taken off the list. ' + problem(res));
        return;
      }
      var words = (done ? done + ' ' : '') + 'Taken off the list.';
      var next = card.nextElementSibling || card.previousElementSibling;
      card.remove();
      $('groups-empty').hidden = $('groups').children.length > 0;
      announce(words);
      (next ? next.querySelector('button') : $('groups-heading')).focus();
    });
  }

  // ---------- wiring ----------
  function wire() {
    $('signin-form').addEventListener('submit', function (e) {
      e.preventDefault();
      var t = $('token').value.trim();
      if (!t) { showSignIn('Paste your editor token.'); return; }
      signIn(t);
    });
    $('sign-out').addEventListener('click', function () { signOut(null); });
    TABS.forEach(function (name, i) {
      var t = $('tab-' + name);
      t.addEventListener('click', function () { showTab(name, false); });
      t.addEventListener('keydown', function (e) {
        var j = e.key === 'ArrowRight' ? (i + 1) % TABS.length : e.key === 'ArrowLeft' ? (i + TABS.length - 1) % TABS.length
          : e.key === 'Home' ? 0 : e.key === 'End' ? TABS.length - 1 : -1;
        if (j < 0) return;
        e.preventDefault();
        showTab(TABS[j], true);
      });
    });
    $('topic-filters').addEventListener('submit', function (e) { e.preventDefault(); });
    ['topic-search', 'topic-scope', 'topic-overdue', 'topic-low'].forEach(function (id) {
      $(id).addEventListener('input', renderTopics);
      // Not `change` on the search box: it fires on leaving the box, and redrawing the list then
      // would swallow the click that left it.
      if (id !== 'topic-search') $(id).addEventListener('change', renderTopics);
    });
    $('file-open').addEventListener('click', function () { if ($('file-select').value) openFile($('file-select').value, 0, true); });
    // Choosing another file outdates a file still loading (say, the first one, on showing Edit).
    $('file-select').addEventListener('change', function () { latest('file'); });
    $('file-select').addEventListener('keydown', function (e) { if (e.key === 'Enter') { e.preventDefault(); $('file-open').click(); } });
    $('new-file-form').addEventListener('submit', newFile);
    var ta = $('file-text');
    ta.addEventListener('input', function () { updateFileState(); preview(); position(); });
    // The intent preview follows the cursor.
    ['keyup', 'click', 'select'].forEach(function (type) { ta.addEventListener(type, function () { preview(); position(); }); });
    ['keyup', 'click', 'select', 'focus'].forEach(function (ev) { ta.addEventListener(ev, position); });
    ta.addEventListener('keydown', function (e) {
      if ((e.ctrlKey || e.metaKey) && !e.altKey && (e.key === 's' || e.key === 'S')) { e.preventDefault(); save(); }
    });
    $('save').addEventListener('click', save);
    $('form-open').addEventListener('click', function () { openForm(topicIdAt()); });
    $('form-new').addEventListener('click', newTopicForm);
    $('intent-form').addEventListener('submit', saveForm);
    $('revert').addEventListener('click', revert);
    $('remove').addEventListener('click', remove);
    $('discard').addEventListener('click', function () { $('discard-confirm').hidden = false; $('discard-no').focus(); });
    $('discard-no').addEventListener('click', function () { $('discard-confirm').hidden = true; $('discard').focus(); });
    $('discard-yes').addEventListener('click', discard);
    $('try-form').addEventListener('submit', tryQuestion);
    $('submit-form').addEventListener('submit', submit);
    $('period').addEventListener('change', loadInsights);
    $('csv').addEventListener('click', downloadCsv);
    window.addEventListener('beforeunload', function (e) {
      if (token && (dirty() || Object.keys(buffers).length)) { e.preventDefault(); e.returnValue = ''; }
    });
  }

  function init() {
    wire();
    var saved = null;
    try { saved = sessionStorage.getItem(TOKEN_KEY); } catch (e) { /* private mode */ }
    if (saved) signIn(saved); else showSignIn(null);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init); else init();
}());
