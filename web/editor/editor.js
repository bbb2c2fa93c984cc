// The pipeline editor: CodeMirror 6 with completion, lint and hover from the pipeline format's
// JSON Schema (served by aqueducts-server at /ui/schema.json): for YAML and JSON through
// codemirror-json-schema (with lint), for TOML through toml.js (completion and hover). Bundled
// by esbuild into /ui/editor.js at build time and loaded only by the pipeline page.
import { EditorView, basicSetup } from 'codemirror';
import { EditorState, Compartment, StateEffect, StateField } from '@codemirror/state';
import { Decoration, keymap } from '@codemirror/view';
import { HighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { indentWithTab } from '@codemirror/commands';
import { tags } from '@lezer/highlight';
import { yamlSchema } from 'codemirror-json-schema/yaml';
import { jsonSchema } from 'codemirror-json-schema';
import { tomlSchema } from './toml.js';

// Colours come from the page's CSS variables, so the editor follows light and dark.
const theme = EditorView.theme({
  '&': { color: 'var(--fg)', backgroundColor: 'var(--bg)', height: '100%' },
  '.cm-scroller': { fontFamily: 'ui-monospace, "DejaVu Sans Mono", monospace', fontSize: '13px' },
  '.cm-content': { caretColor: 'var(--fg)' },
  '.cm-cursor': { borderLeftColor: 'var(--fg)' },
  '.cm-gutters': { backgroundColor: 'var(--panel)', color: 'var(--muted)', borderRight: '1px solid var(--border)' },
  '.cm-activeLine': { backgroundColor: 'transparent' },
  '.cm-activeLineGutter': { backgroundColor: 'var(--border)', color: 'var(--fg)' },
  '&.cm-focused .cm-selectionBackground, .cm-selectionBackground, ::selection': { backgroundColor: 'var(--sel)' },
  '.cm-aq-error-line': { backgroundColor: 'var(--err-bg)' },
  '.cm-tooltip': { backgroundColor: 'var(--panel)', color: 'var(--fg)', border: '1px solid var(--border)' },
  '.cm-tooltip-autocomplete ul li[aria-selected]': { backgroundColor: 'var(--accent)', color: 'var(--accent-fg)' },
  '.cm-aq-hover': { padding: '4px 8px', maxWidth: '480px' },
});
const highlight = HighlightStyle.define([
  { tag: [tags.propertyName, tags.definition(tags.propertyName)], color: 'var(--hl-key)' },
  { tag: [tags.string, tags.special(tags.string)], color: 'var(--hl-string)' },
  { tag: [tags.number, tags.bool, tags.null, tags.atom], color: 'var(--hl-literal)' },
  { tag: [tags.comment, tags.lineComment], color: 'var(--muted)', fontStyle: 'italic' },
  { tag: [tags.keyword, tags.operator, tags.punctuation, tags.separator, tags.bracket], color: 'var(--fg)' },
]);

// The server's validation error, marked on its line until the text changes.
const setError = StateEffect.define();
const errorField = StateField.define({
  create: () => Decoration.none,
  update(deco, tr) {
    for (const e of tr.effects) {
      if (e.is(setError)) {
        if (!e.value) return Decoration.none;
        const line = tr.state.doc.line(Math.min(Math.max(1, e.value.line), tr.state.doc.lines));
        return Decoration.set([Decoration.line({ class: 'cm-aq-error-line', attributes: { title: e.value.message } }).range(line.from)]);
      }
    }
    return tr.docChanged ? Decoration.none : deco;
  },
  provide: (f) => EditorView.decorations.from(f),
});

function language(format, schema) {
  if (format === 'yaml') return yamlSchema(schema);
  if (format === 'json') return jsonSchema(schema);
  if (format === 'toml') return tomlSchema(schema);
  return [];
}

// Creates the editor in `host`: {getText, setText, setFormat, setReadOnly, markError, focus, destroy}.
// `host.aqEditor` is the same object (the browser test drives the editor through it).
export function createEditor(host, { text, format, schema, readOnly, label, onChange }) {
  const lang = new Compartment();
  const ro = new Compartment();
  const view = new EditorView({
    parent: host,
    state: EditorState.create({
      doc: text,
      extensions: [
        basicSetup,
        keymap.of([indentWithTab]),
        theme,
        syntaxHighlighting(highlight),
        errorField,
        lang.of(language(format, schema)),
        ro.of([EditorState.readOnly.of(!!readOnly), EditorView.editable.of(!readOnly)]),
        // tabindex: the text is reachable by keyboard also when read-only (not contenteditable),
        // and accessibility checkers see the scrolling area's focusable content.
        EditorView.contentAttributes.of({ 'aria-label': label, 'aria-multiline': 'true', tabindex: '0' }),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) onChange(u.state.doc.toString());
        }),
      ],
    }),
  });
  const api = {
    view,
    getText: () => view.state.doc.toString(),
    setText(t) {
      if (t !== view.state.doc.toString()) view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: t } });
    },
    setFormat(f) {
      view.dispatch({ effects: lang.reconfigure(language(f, schema)) });
    },
    setReadOnly(r) {
      view.dispatch({ effects: ro.reconfigure([EditorState.readOnly.of(!!r), EditorView.editable.of(!r)]) });
    },
    // Marks `line` (1-based; null clears) and puts the cursor at its start, scrolled into view.
    markError(line, message) {
      if (!line) {
        view.dispatch({ effects: setError.of(null) });
        return;
      }
      const at = view.state.doc.line(Math.min(Math.max(1, line), view.state.doc.lines));
      view.dispatch({ effects: [setError.of({ line, message }), EditorView.scrollIntoView(at.from, { y: 'center' })], selection: { anchor: at.from } });
    },
    focus: () => view.focus(),
    destroy: () => view.destroy(),
  };
  host.aqEditor = api;
  return api;
}
