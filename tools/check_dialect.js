#!/usr/bin/env node
// The code dialect every module keeps, checked by ctest (`dialect`) so it cannot drift again:
//  1. the body of every if / else / for / while is a braced block (`else if` chains included);
//     a do-while's closing `while (...);` is the one exception;
//  2. every header starts its code with `#pragma once`.
// Preprocessor lines (macros included) are not checked. clang-format (`make format-check`) owns
// the layout; this owns what clang-format 14 cannot insert.
// Usage: node tools/check_dialect.js SOURCE_DIR   (checks the git-tracked .cc and .h files)
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = process.argv[2] || '.';
const files = execFileSync('git', ['ls-files', '*.cc', '*.h'], { cwd: root, encoding: 'utf8' })
  .split('\n')
  .filter((f) => f && !f.startsWith('third_party/'));

// The source with comments, string and character literals and preprocessor lines blanked out
// (newlines kept, so offsets still give line numbers).
function Blank(src) {
  const out = src.split('');
  let i = 0;
  const blank = (from, to) => {
    for (let k = from; k < to; k++) {
      if (out[k] !== '\n') out[k] = ' ';
    }
  };
  let lineStart = true;
  while (i < src.length) {
    const c = src[i];
    if (lineStart && /^[ \t]*#/.test(src.slice(i, src.indexOf('\n', i) + 1 || src.length))) {
      let end = i;
      for (;;) {
        const nl = src.indexOf('\n', end);
        if (nl < 0) { end = src.length; break; }
        const line = src.slice(end, nl);
        end = nl + 1;
        if (!/\\\s*$/.test(line)) break;
      }
      blank(i, end);
      i = end;
      continue;
    }
    lineStart = c === '\n';
    if (c === '/' && src[i + 1] === '/') {
      const nl = src.indexOf('\n', i);
      const end = nl < 0 ? src.length : nl;
      blank(i, end);
      i = end;
    } else if (c === '/' && src[i + 1] === '*') {
      const close = src.indexOf('*/', i + 2);
      const end = close < 0 ? src.length : close + 2;
      blank(i, end);
      i = end;
    } else if (c === 'R' && src[i + 1] === '"' && !/[A-Za-z0-9_]/.test(src[i - 1] || '')) {
      const open = src.indexOf('(', i + 2);
      const delim = ')' + src.slice(i + 2, open) + '"';
      const close = src.indexOf(delim, open);
      const end = close < 0 ? src.length : close + delim.length;
      blank(i, end);
      i = end;
    } else if (c === '"' || (c === "'" && !/[0-9A-Fa-f]/.test(src[i - 1] || ''))) {
      // A ' after a hex digit is a digit separator (1'000), not a character literal.
      let k = i + 1;
      while (k < src.length && src[k] !== c && src[k] !== '\n') k += src[k] === '\\' ? 2 : 1;
      blank(i, k + 1);
      i = k + 1;
    } else {
      i++;
    }
  }
  return out.join('');
}

function LineOf(src, offset) {
  let n = 1;
  for (let k = 0; k < offset; k++) if (src[k] === '\n') n++;
  return n;
}

function NextNonSpace(src, from) {
  let k = from;
  while (k < src.length && /\s/.test(src[k])) k++;
  return k;
}

const problems = [];
for (const file of files) {
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  const src = Blank(text);
  if (file.endsWith('.h') && !/^\s*#pragma once/.test(text.replace(/^(\s*\/\/[^\n]*\n)*/, ''))) {
    problems.push(`${file}:1: a header starts with #pragma once`);
  }
  const keyword = /(?<![A-Za-z0-9_])(if|for|while|else)(?![A-Za-z0-9_])/g;
  let m;
  while ((m = keyword.exec(src)) !== null) {
    const word = m[1];
    let k = NextNonSpace(src, m.index + word.length);
    if (word === 'else') {
      if (src[k] !== '{' && !src.startsWith('if', k)) {
        problems.push(`${file}:${LineOf(src, m.index)}: the else branch is not a braced block`);
      }
      continue;
    }
    if (src.startsWith('constexpr', k)) k = NextNonSpace(src, k + 'constexpr'.length);
    if (src[k] !== '(') continue;  // not a statement (e.g. a word inside an identifier-like use)
    let depth = 0;
    for (; k < src.length; k++) {
      if (src[k] === '(') depth++;
      else if (src[k] === ')' && --depth === 0) break;
    }
    const next = NextNonSpace(src, k + 1);
    if (src[next] === '{') continue;
    if (word === 'while' && src[next] === ';') continue;  // do { ... } while (...);
    problems.push(`${file}:${LineOf(src, m.index)}: the body of '${word}' is not a braced block`);
  }
}
if (problems.length > 0) {
  console.error(problems.join('\n'));
  console.error(`${problems.length} place(s) break the code dialect (tools/check_dialect.js)`);
  process.exit(1);
}
console.log(`dialect: ${files.length} files checked`);
