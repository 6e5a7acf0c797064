/*! herts-assistant toolkit: building elements. Text always goes in as text (textContent or
 * text nodes), never as markup. ES5 inside, so the widget runs on any council page; the
 * consoles import this as an ES module and the server puts it inside widget.js. */

// <tag> with attributes (`text` sets its text, `class` its class, `hidden` hides it) and
// children (elements, or strings as text).
export function el(tag, attrs, children) {
  var node = document.createElement(tag);
  Object.keys(attrs || {}).forEach(function (k) {
    if (k === 'text') node.textContent = attrs[k];
    else if (k === 'class') node.className = attrs[k];
    else if (k === 'hidden') node.hidden = !!attrs[k];
    else node.setAttribute(k, attrs[k]);
  });
  (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
  return node;
}
