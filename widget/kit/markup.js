/*! herts-assistant toolkit: the safe Markdown subset, drawn. Answers are paragraphs (a blank
 * line between), **bold**, "- " list lines and [text](target) links to https:, tel: and
 * mailto: targets; anything else, HTML included, stays literal text. The subset is defined in
 * src/markup.rs (whose `check` refuses content outside it); tests/fixtures/markup.json holds
 * cases that both the Rust tests and the browser tests run, so the two cannot drift apart. */
import { el } from './dom.js';

var SAFE_URL = /^(https:\/\/|tel:|mailto:)/i;

// `url` if it is a link the widget may draw, else null.
export function safeUrl(url) {
  url = String(url || '');
  if (!SAFE_URL.test(url)) return null;
  try { return /^(https:|tel:|mailto:)$/.test(new URL(url).protocol) ? url : null; } catch (e) { return null; }
}

// A link; web pages open in a new tab, which screen readers are told (`srClass` hides the
// words from sight: the widget's styles are its own, "ha-sr").
export function link(text, url, srClass) {
  var a = el('a', { href: url, text: text });
  if (/^https:/i.test(url)) {
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    a.appendChild(el('span', { class: srClass || 'sr', text: ' (opens in a new tab)' }));
  }
  return a;
}

function renderInline(text, parent, srClass) {
  var re = /\*\*(.+?)\*\*|\[([^\]\n]+)\]\(([^()\s]+)\)/g;
  var last = 0, m;
  while ((m = re.exec(text))) {
    if (m.index > last) parent.appendChild(document.createTextNode(text.slice(last, m.index)));
    if (m[1] !== undefined) {
      renderInline(m[1], parent.appendChild(el('strong')), srClass);
    } else {
      var url = safeUrl(m[3]);
      parent.appendChild(url ? link(m[2], url, srClass) : document.createTextNode(m[0]));
    }
    last = re.lastIndex;
  }
  if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
}

// An answer, drawn: a fragment of <p> and <ul> elements.
export function renderText(text, srClass) {
  var frag = document.createDocumentFragment();
  String(text || '').replace(/\r\n?/g, '\n').split(/\n[ \t]*\n/).forEach(function (block) {
    var list = null, para = null;
    block.split('\n').forEach(function (line) {
      if (/^\s*- /.test(line)) {
        para = null;
        if (!list) list = frag.appendChild(el('ul'));
        renderInline(line.replace(/^\s*- /, ''), list.appendChild(el('li')), srClass);
      } else if (line.trim()) {
        list = null;
        if (para) para.appendChild(el('br')); else para = frag.appendChild(el('p'));
        renderInline(line, para, srClass);
      }
    });
  });
  return frag;
}

// What a person typed: literal, line breaks kept; with `links`, a bare https address becomes
// a link (an adviser's, for a resident to follow).
export function plainText(text, links, srClass) {
  var p = el('p');
  String(text || '').replace(/\r\n?/g, '\n').split('\n').forEach(function (line, i) {
    if (i) p.appendChild(el('br'));
    var re = /https:\/\/[^\s<>"]+[^\s<>".,;:!?)\]]/g, last = 0, m;
    while (links && (m = re.exec(line))) {
      p.appendChild(document.createTextNode(line.slice(last, m.index)));
      p.appendChild(safeUrl(m[0]) ? link(m[0], m[0], srClass) : document.createTextNode(m[0]));
      last = re.lastIndex;
    }
    p.appendChild(document.createTextNode(line.slice(last)));
  });
  return p;
}
