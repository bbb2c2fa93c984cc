// TOML in the pipeline editor: highlighting, completion and hover from the pipeline format's JSON
// Schema (the same schema the YAML and JSON modes use). No TOML parser is needed: the text before
// the cursor is scanned once to learn where the cursor is (which [table] or [[array]] header,
// which inline table or array, which key), and that path is looked up in the schema.
import { StreamLanguage } from '@codemirror/language';
import { hoverTooltip } from '@codemirror/view';

// Highlighting: comments, [headers], keys, strings (basic, literal, multi-line), numbers, booleans.
const tomlMode = {
  name: 'toml',
  startState: () => ({ inString: null, inArray: 0, lhs: true }),
  token(stream, state) {
    if (state.inString) {
      while (!stream.eol()) {
        if (stream.match(state.inString)) {
          state.inString = null;
          return 'string';
        }
        if (state.inString === '"""' && stream.peek() === '\\') stream.next();
        stream.next();
      }
      return 'string';
    }
    if (stream.sol() && state.inArray === 0) state.lhs = true;
    if (stream.eatSpace()) return null;
    if (stream.peek() === '#') {
      stream.skipToEnd();
      return 'comment';
    }
    if (stream.sol() && state.inArray === 0 && stream.match(/^\[\[?[^\]]*\]\]?/)) return 'heading';
    for (const quote of ['"""', "'''"]) {
      if (stream.match(quote)) {
        state.inString = quote;
        return 'string';
      }
    }
    if (stream.match(/^"(?:[^"\\]|\\.)*"?/) || stream.match(/^'[^']*'?/)) return state.lhs ? 'propertyName' : 'string';
    if (state.lhs && stream.match(/^[A-Za-z0-9_.-]+/)) return 'propertyName';
    if (stream.eat('=')) {
      state.lhs = false;
      return 'operator';
    }
    if (stream.match(/^(true|false)\b/)) return 'bool';
    if (stream.match(/^[+-]?(\d[\d_]*(\.\d+)?([eE][+-]?\d+)?|inf|nan)\b/) || stream.match(/^\d{4}-\d\d-\d\d[T ]?[\d:.Z+-]*/)) return 'number';
    const ch = stream.next();
    if (ch === '[') state.inArray++;
    if (ch === ']' && state.inArray > 0) state.inArray--;
    if (ch === '{') state.lhs = true;
    if (ch === ',') state.lhs = state.inArray === 0;
    return 'bracket';
  },
  languageData: { commentTokens: { line: '#' } },
};

// ---- The schema ----------------------------------------------------------------------------

function deref(root, node) {
  let n = node;
  for (let i = 0; n && n.$ref && i < 20; i++) {
    n = n.$ref.replace(/^#\//, '').split('/').reduce((o, k) => (o ? o[k] : undefined), root);
  }
  return n || {};
}

// The alternatives a node stands for (oneOf/anyOf flattened, $refs resolved, null left out).
function alternatives(root, node) {
  const n = deref(root, node);
  const list = n.oneOf || n.anyOf;
  // An object's own anyOf (e.g. "format or file_type is required") constrains it; it is no choice.
  if (!list || n.properties) return n.type === 'null' ? [] : [n];
  return list.flatMap((x) => alternatives(root, x));
}

function typeOf(n) {
  if (n.type) return Array.isArray(n.type) ? n.type : [n.type];
  if (n.properties) return ['object'];
  if (n.items) return ['array'];
  return [];
}

// Whether `alt` fits the scalar values already written in its table (e.g. type = "csv").
function fits(alt, known) {
  for (const [k, v] of Object.entries(known || {})) {
    const p = alt.properties && alt.properties[k];
    if (p && Array.isArray(p.enum) && typeof v === 'string' && !p.enum.includes(v)) return false;
  }
  return true;
}

// The schema alternatives at `path` (keys, '[]' for an array's items); `known` maps a path's
// string to the scalar values written in that table, to tell alternatives apart.
function schemaAt(root, path, known) {
  let nodes = alternatives(root, root);
  const walked = [];
  for (const seg of path) {
    const next = [];
    for (const n of nodes) {
      if (seg === '[]') {
        if (n.items) next.push(...alternatives(root, n.items));
        continue;
      }
      // A dotted key or header over an array of tables means its last element.
      const array = n.items && !n.properties;
      const objects = array ? alternatives(root, n.items) : [n];
      const values = known.get((array ? [...walked, '[]'] : walked).join('\u0000'));
      for (const o of objects) {
        if (!fits(o, values)) continue;
        if (o.properties && o.properties[seg]) next.push(...alternatives(root, o.properties[seg]));
        else if (o.additionalProperties && typeof o.additionalProperties === 'object') next.push(...alternatives(root, o.additionalProperties));
      }
    }
    walked.push(seg);
    nodes = next;
  }
  return nodes.filter((n) => fits(n, known.get(path.join('\u0000'))));
}

// The properties that tables at `nodes` may have: name -> [property schemas].
function propertiesOf(root, nodes) {
  const out = new Map();
  for (const n0 of nodes) {
    const objects = n0.items && !n0.properties ? alternatives(root, n0.items) : [n0];
    for (const n of objects) {
      for (const [k, v] of Object.entries(n.properties || {})) {
        if (!out.has(k)) out.set(k, []);
        out.get(k).push(...alternatives(root, v));
      }
    }
  }
  return out;
}

function summary(alts) {
  const types = [...new Set(alts.flatMap(typeOf))];
  const values = [...new Set(alts.flatMap((a) => a.enum || []))];
  const descr = alts.map((a) => a.description).find(Boolean) || '';
  const dflt = alts.find((a) => a.default !== undefined);
  return { types, values, descr, dflt: dflt ? dflt.default : undefined };
}

// ---- Where the cursor is ----------------------------------------------------------------------

// Scans `text` up to `pos`. Returns {path, keys, known, at} where `path` is the table or array the
// cursor is in, `keys` the keys already written in that table, and `at` one of
// {kind: 'key', from, prefix}, {kind: 'value', key, from, quoted}, {kind: 'header', from},
// {kind: 'none'}.
function contextAt(text, pos) {
  const known = new Map();
  const keyOf = (path) => path.join('\u0000');
  let stack = [{ kind: 'table', path: [], keys: new Set(), expect: 'key', base: true }];
  let i = 0;
  let word = '';
  let wordFrom = -1;
  const top = () => stack[stack.length - 1];
  const remember = (frame, key, value) => {
    const k = keyOf(frame.path);
    if (!known.has(k)) known.set(k, {});
    known.get(k)[key] = value;
  };
  let pendingKey = null;
  let stringAt = null;  // an unclosed string before pos: {from}
  let headerAt = null;
  while (i < pos) {
    const c = text[i];
    const f = top();
    if (c === '#') {
      while (i < pos && text[i] !== '\n') i++;
      continue;
    }
    if (c === '\n') {
      if (f.base) {
        f.expect = 'key';
        pendingKey = null;
      }
      word = '';
      wordFrom = -1;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      if (f.expect === 'key' && word) {
        // a key ends; '=' follows
      }
      i++;
      continue;
    }
    // A header at the start of a line of the top level.
    if (c === '[' && stack.length === 1 && f.expect === 'key' && !word) {
      const end = text.indexOf('\n', i);
      const line = text.slice(i, end < 0 ? text.length : end);
      const m = /^(\[\[?)([^\]]*)(\]\]?)?/.exec(line);
      if (i + m[0].length >= pos && !m[3]) {
        headerAt = { from: i + m[1].length, prefix: text.slice(i + m[1].length, pos) };
        break;
      }
      const path = m[2].split('.').map((s) => s.trim().replace(/^["']|["']$/g, '')).filter(Boolean);
      if (m[1] === '[[') {
        path.push('[]');
        for (const k of [...known.keys()]) if (k === keyOf(path) || k.startsWith(keyOf(path) + '\u0000')) known.delete(k);
      }
      stack = [{ kind: 'table', path, keys: new Set(), expect: 'after', base: true }];
      i += m[0].length;
      continue;
    }
    if (c === '"' || c === "'") {
      const triple = text.startsWith(c.repeat(3), i);
      const close = triple ? c.repeat(3) : c;
      let j = i + close.length;
      for (; j < text.length; j++) {
        if (c === '"' && text[j] === '\\') {
          j++;
          continue;
        }
        if (text.startsWith(close, j)) break;
        if (!triple && text[j] === '\n') break;
      }
      if (j >= pos || j >= text.length) {
        stringAt = { from: i + close.length, quote: c };
        break;
      }
      const value = text.slice(i + close.length, j);
      if (f.expect === 'key') {
        word += value;
        if (wordFrom < 0) wordFrom = i;
      } else if (f.expect === 'value') {
        if (f.kind === 'table' && pendingKey) remember(f, pendingKey.join('.'), value);
        f.expect = 'after';
      }
      i = j + close.length;
      continue;
    }
    if (c === '=' && f.expect === 'key') {
      pendingKey = word.split('.').map((s) => s.trim()).filter(Boolean);
      if (pendingKey.length) f.keys.add(pendingKey[0]);
      f.expect = 'value';
      word = '';
      wordFrom = -1;
      i++;
      continue;
    }
    if (c === '[' && (f.expect === 'value' || f.kind === 'array')) {
      const path = f.kind === 'array' ? [...f.path, '[]'] : [...f.path, ...pendingKey];
      if (f.kind === 'table') f.expect = 'after';
      stack.push({ kind: 'array', path, keys: new Set(), expect: 'value' });
      i++;
      continue;
    }
    if (c === '{' && (f.expect === 'value' || f.kind === 'array')) {
      const path = f.kind === 'array' ? [...f.path, '[]'] : [...f.path, ...pendingKey];
      if (f.kind === 'table') f.expect = 'after';
      stack.push({ kind: 'table', path, keys: new Set(), expect: 'key', inline: true, saved: pendingKey });
      pendingKey = null;
      word = '';
      i++;
      continue;
    }
    if ((c === ']' || c === '}') && stack.length > 1) {
      const popped = stack.pop();
      if (popped.saved !== undefined) pendingKey = popped.saved;
      i++;
      continue;
    }
    if (c === ',') {
      if (f.kind === 'table' && f.inline) {
        f.expect = 'key';
        pendingKey = null;
      }
      word = '';
      wordFrom = -1;
      i++;
      continue;
    }
    // A bare word: part of a key, or a scalar value.
    const m = /^[A-Za-z0-9_.+:-]+/.exec(text.slice(i, Math.min(pos, i + 200)));
    if (m) {
      if (f.expect === 'key') {
        if (wordFrom < 0) wordFrom = i;
        word += m[0];
      } else if (f.expect === 'value' && f.kind === 'table') {
        if (i + m[0].length >= pos) break;  // the value being typed
        remember(f, pendingKey.join('.'), m[0]);
        f.expect = 'after';
      }
      i += m[0].length;
      continue;
    }
    i++;
  }
  const f = top();
  let at = { kind: 'none' };
  if (headerAt) at = { kind: 'header', from: headerAt.from, prefix: headerAt.prefix };
  else if (stringAt && f.expect === 'value') at = { kind: 'value', key: pendingKey, from: stringAt.from, quoted: true };
  else if (stringAt && f.expect === 'key') at = { kind: 'key', from: stringAt.from, prefix: text.slice(stringAt.from, pos) };
  else if (f.expect === 'key') {
    const m = /[A-Za-z0-9_.-]*$/.exec(text.slice(0, pos));
    at = { kind: 'key', from: pos - m[0].length, prefix: m[0] };
  } else if (f.expect === 'value' && f.kind === 'table') {
    const m = /[A-Za-z0-9_.+:-]*$/.exec(text.slice(0, pos));
    at = { kind: 'value', key: pendingKey, from: pos - m[0].length, quoted: false };
  }
  return { path: f.path, keys: f.keys, known, at };
}

// ---- Completion and hover ---------------------------------------------------------------------

function describe(alts) {
  const s = summary(alts);
  const parts = [];
  if (s.descr) parts.push(s.descr);
  parts.push('Type: ' + (s.types.length ? s.types.join(' or ') : 'any') + (s.values.length ? ` (${s.values.join(', ')})` : ''));
  if (s.dflt !== undefined) parts.push('Default: ' + JSON.stringify(s.dflt));
  return parts.join('\n');
}

function completions(schema, context) {
  const doc = context.state.doc.toString();
  const ctx = contextAt(doc, context.pos);
  const { at } = ctx;
  if (at.kind === 'key') {
    const dotted = at.prefix.split('.');
    const path = [...ctx.path, ...dotted.slice(0, -1)];
    const props = propertiesOf(schema, schemaAt(schema, path, ctx.known));
    if (!props.size || (!at.prefix && !context.explicit && at.from === context.pos && !/\n\s*$|[{,]\s*$/.test(doc.slice(0, context.pos)))) return null;
    const from = at.from + at.prefix.length - dotted[dotted.length - 1].length;
    const options = [...props].filter(([k]) => dotted.length > 1 || !ctx.keys.has(k)).map(([k, alts]) => {
      const s = summary(alts);
      const object = s.types.includes('object') || s.types.includes('array');
      return { label: k, type: 'property', detail: s.types.join(' | '), info: describe(alts), apply: object ? k : k + ' = ' };
    });
    return { from, options, validFor: /^[A-Za-z0-9_-]*$/ };
  }
  if (at.kind === 'value' && at.key) {
    const alts = schemaAt(schema, [...ctx.path, ...at.key], ctx.known);
    const s = summary(alts);
    const options = [];
    for (const v of s.values) options.push({ label: at.quoted ? v : JSON.stringify(v), type: 'enum', info: describe(alts) });
    if (s.types.includes('boolean') && !at.quoted) options.push({ label: 'true', type: 'keyword' }, { label: 'false', type: 'keyword' });
    if (s.dflt !== undefined && !s.values.length && !s.types.includes('boolean')) {
      options.push({ label: at.quoted ? String(s.dflt) : JSON.stringify(s.dflt), type: 'constant', detail: 'default' });
    }
    if (!options.length) return null;
    return { from: at.from, options, validFor: /^[A-Za-z0-9_"-]*$/ };
  }
  if (at.kind === 'header') {
    const dotted = at.prefix.split('.');
    const path = dotted.slice(0, -1).map((s) => s.trim());
    const props = propertiesOf(schema, schemaAt(schema, path, new Map()));
    const options = [...props].filter(([, alts]) => alts.some((a) => typeOf(a).includes('object') || (a.items && !typeOf(deref(schema, a.items)).includes('array'))))
      .map(([k, alts]) => ({ label: k, type: 'property', info: describe(alts) }));
    return { from: at.from + at.prefix.length - dotted[dotted.length - 1].length, options, validFor: /^[A-Za-z0-9_-]*$/ };
  }
  return null;
}

// The field under the pointer: a key (left of '=', or a segment of a [header]) and its schema.
function hoverAt(schema, view, pos) {
  const doc = view.state.doc;
  const line = doc.lineAt(pos);
  const text = line.text;
  const col = pos - line.from;
  const isWord = (ch) => /[A-Za-z0-9_-]/.test(ch || '');
  if (!isWord(text[col]) && !isWord(text[col - 1])) return null;
  let a = col;
  let b = col;
  while (a > 0 && isWord(text[a - 1])) a--;
  while (b < text.length && isWord(text[b])) b++;
  // Extend left over a dotted key (a.b.c): the path up to this segment.
  let s = a;
  while (s > 0 && (text[s - 1] === '.' || isWord(text[s - 1]))) s--;
  const before = text.slice(0, s);
  const header = /^\s*\[\[?\s*$/.test(before);
  const keyPosition = header || /(^\s*|[{,]\s*)$/.test(before);
  if (!keyPosition) return null;
  if (!header && !/^[\sA-Za-z0-9_.-]*=/.test(text.slice(s))) return null;
  const segs = text.slice(s, b).split('.');
  let path;
  if (header) {
    path = segs;
  } else {
    const ctx = contextAt(doc.toString(), line.from + s);
    path = [...ctx.path, ...segs];
    const alts = schemaAt(schema, path, ctx.known);
    return alts.length ? { from: line.from + a, to: line.from + b, name: segs[segs.length - 1], alts } : null;
  }
  const alts = schemaAt(schema, path, new Map());
  return alts.length ? { from: line.from + a, to: line.from + b, name: segs[segs.length - 1], alts } : null;
}

export function tomlSchema(schema) {
  const language = StreamLanguage.define(tomlMode);
  return [
    language,
    language.data.of({ autocomplete: (context) => completions(schema, context) }),
    hoverTooltip((view, pos) => {
      const found = hoverAt(schema, view, pos);
      if (!found) return null;
      return {
        pos: found.from,
        end: found.to,
        above: true,
        create() {
          const dom = document.createElement('div');
          dom.className = 'cm-aq-hover';
          const title = document.createElement('strong');
          title.textContent = found.name;
          const body = document.createElement('div');
          body.textContent = describe(found.alts);
          body.style.whiteSpace = 'pre-wrap';
          dom.append(title, body);
          return { dom };
        },
      };
    }),
  ];
}

// For tests in Node: where the cursor is, and the schema there.
export const internals = { contextAt, schemaAt, propertiesOf };
