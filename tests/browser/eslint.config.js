// The front end's lint: names used but never defined, names defined twice, variables never
// used. widget/kit/ and the consoles are ES modules; widget.js is a classic script that the
// server gives the kit's functions (at its `// @toolkit` line), so those are its globals here.
import fs from 'node:fs';
import path from 'node:path';
import globals from 'globals';

const widgetDir = path.resolve(import.meta.dirname, '../../widget');
const toolkitLine = fs.readFileSync(path.join(widgetDir, 'widget.js'), 'utf8').match(/\/\/ @toolkit (.*)/)[1];
const toolkit = Object.fromEntries(toolkitLine.trim().split(/\s+/).flatMap((module) =>
  [...fs.readFileSync(path.join(widgetDir, module), 'utf8').matchAll(/^(?:export )?(?:function|var) (\w+)/gm)]
    .map((m) => [m[1], 'readonly'])));

const rules = {
  'no-undef': 'error',
  'no-redeclare': 'error',
  'no-unused-vars': ['error', { vars: 'all', args: 'none', caughtErrors: 'none' }],
};

export default [
  {
    files: ['widget/kit/*.js', 'widget/agent.js', 'widget/editor.js'],
    languageOptions: { sourceType: 'module', ecmaVersion: 2022, globals: globals.browser },
    rules,
  },
  {
    files: ['widget/widget.js'],
    languageOptions: { sourceType: 'script', ecmaVersion: 2022, globals: { ...globals.browser, ...toolkit } },
    rules,
  },
];
