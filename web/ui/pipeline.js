// One pipeline: its text in an editor (a textarea with line numbers; the server's validation
// error is marked at its line), its versions, and the form that runs it.
import { VersionDiff } from './diff.js';
import { html, api, can, useLoad, useState, useRef, useEffect, usePageTitle, ErrorBox, when } from './lib.js';

const kTemplate = `version: v2
sources:
  - type: file
    name: readings
    format:
      type: csv
      options:
        has_header: true
    location: /path/to/readings.csv
stages:
  - - name: totals
      query: SELECT count(*) AS n FROM readings
destination:
  type: file
  name: out
  format:
    type: csv
  location: \${out}
`;

// The line (and column) a loader message points at: "pipeline:6: ..." or "pipeline:6:3: ...".
export function errorLine(message) {
  const m = /\bpipeline:(\d+)(?::(\d+))?/.exec(message || '');
  return m ? { line: Number(m[1]), column: m[2] ? Number(m[2]) : 0 } : null;
}

function Editor({ text, setText, readOnly, error }) {
  const area = useRef(null);
  const gutter = useRef(null);
  const at = error ? errorLine(error.message) : null;
  const lines = text.split('\n').length;
  useEffect(() => {
    if (!at || !area.current) return;
    // Put the cursor on the line the server named and scroll it into view.
    const starts = [0];
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
    const start = starts[Math.min(at.line, starts.length) - 1] ?? 0;
    area.current.setSelectionRange(start, start);
    area.current.scrollTop = Math.max(0, (at.line - 5) * 19.5);
    gutter.current.scrollTop = area.current.scrollTop;
  }, [error]);
  const sync = () => {
    gutter.current.scrollTop = area.current.scrollTop;
  };
  return html`
    <div class="editor">
      <div class="gutter" ref=${gutter} aria-hidden="true">
        ${Array.from({ length: lines }, (_, i) => html`<div class=${at && at.line === i + 1 ? 'bad' : ''} data-line=${i + 1}>${i + 1}</div>`)}
        <div> </div>
      </div>
      <textarea id="pipeline-text" ref=${area} aria-label="Pipeline text" aria-invalid=${at ? 'true' : 'false'}
        aria-describedby=${error ? 'save-error' : undefined} spellcheck="false" wrap="off" readOnly=${readOnly}
        value=${text} onInput=${(e) => setText(e.target.value)} onScroll=${sync}></textarea>
    </div>`;
}

// The schema-driven editor (CodeMirror, /ui/editor.js, about 280 KB gzipped) is loaded only here,
// on first use; if it cannot be loaded the plain text area is used and the reason is shown.
let editorModule = null;
function loadEditor() {
  editorModule = editorModule || Promise.all([
    import('./editor.js'),
    fetch('/ui/schema.json').then((r) => {
      if (!r.ok) throw new Error(`GET /ui/schema.json: HTTP ${r.status}`);
      return r.json();
    }),
  ]);
  return editorModule;
}

function CodeEditor({ text, source, setText, format, readOnly, error }) {
  const host = useRef(null);
  const editor = useRef(null);
  const [failed, setFailed] = useState(null);
  const [ready, setReady] = useState(false);
  const at = error ? errorLine(error.message) : null;
  useEffect(() => {
    let gone = false;
    loadEditor().then(([mod, schema]) => {
      if (gone) return;
      editor.current = mod.createEditor(host.current, {
        text, format, schema, readOnly, label: 'Pipeline text', onChange: setText,
      });
      setReady(true);
    }, (e) => setFailed(e));
    return () => {
      gone = true;
      if (editor.current) editor.current.destroy();
      editor.current = null;
    };
  }, []);
  // Only a text from outside (a pipeline version loaded) is pushed into the editor; the editor's
  // own changes flow out through onChange. Pushing every `text` back would race with typing.
  useEffect(() => {
    if (editor.current && source) editor.current.setText(source.text);
  }, [source]);
  useEffect(() => {
    if (editor.current) editor.current.setFormat(format);
  }, [format]);
  useEffect(() => {
    if (editor.current) editor.current.setReadOnly(readOnly);
  }, [readOnly]);
  useEffect(() => {
    if (editor.current) editor.current.markError(at ? at.line : null, error ? error.message : '');
  }, [error, ready]);
  if (failed) {
    return html`<div class="error" role="alert">The editor could not be loaded (${failed.message}); a plain text area is used.</div>
      <${Editor} text=${text} setText=${setText} readOnly=${readOnly} error=${error} />`;
  }
  // The host's children belong to CodeMirror, never to Preact.
  return html`${ready ? null : html`<p class="muted">Loading the editor…</p>`}
    <div class="editor cm-host" id="pipeline-editor" ref=${host} data-ready=${ready ? 'true' : 'false'}></div>`;
}

function RunForm({ pipeline }) {
  const { data: executors, error: loadError } = useLoad(() => api('GET', '/executors'), []);
  const [target, setTarget] = useState('');
  const [params, setParams] = useState({});
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const list = executors ? executors.executors : [];
  const labels = [...new Set(list.flatMap((e) => Object.entries(e.labels || {}).map(([k, v]) => `${k}=${v}`)))].sort();
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body = { parameters: params, version: pipeline.version };
    if (target.startsWith('executor:')) body.executor = target.slice(9);
    if (target.startsWith('label:')) body.label = target.slice(6);
    try {
      const run = await api('POST', `/pipelines/${pipeline.id}/runs`, body);
      location.hash = '#/runs/' + run.id;
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return html`
    <form id="run-form" onSubmit=${submit}>
      <h2>Run</h2>
      <div class="row">
        <div>
          <label for="run-target">Where</label>
          <select id="run-target" value=${target} onChange=${(e) => setTarget(e.target.value)}>
            <option value="">any online executor</option>
            ${list.map((x) => html`<option value=${'executor:' + x.name}>executor ${x.name} (${x.status})</option>`)}
            ${labels.map((l) => html`<option value=${'label:' + l}>any executor with label ${l}</option>`)}
          </select>
        </div>
        ${pipeline.parameters.map((p) => html`
          <div>
            <label for=${'param-' + p}>Parameter <code>${p}</code></label>
            <input id=${'param-' + p} required value=${params[p] || ''} onInput=${(e) => setParams({ ...params, [p]: e.target.value })} />
          </div>`)}
        <div><button id="run-button" class="primary" type="submit" disabled=${busy}>Run version ${pipeline.version}</button></div>
      </div>
      <${ErrorBox} error=${loadError || error} />
    </form>`;
}

export function PipelinePage({ id, query }) {
  const isNew = id === 'new';
  const version = query.get('version');
  const diff = Number(query.get('diff') || 0);
  const { data: pipeline, error: loadError, reload } = useLoad(
    () => (isNew ? Promise.resolve(null) : api('GET', `/pipelines/${id}` + (version ? `?version=${version}` : ''))),
    [id, version]);
  const { data: versions } = useLoad(() => (isNew ? Promise.resolve(null) : api('GET', `/pipelines/${id}/versions`)), [id, pipeline && pipeline.version]);
  const [name, setName] = useState(isNew ? '' : null);
  const [format, setFormat] = useState(isNew ? 'yaml' : null);
  const [text, setText] = useState(isNew ? kTemplate : null);
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState(null);
  const [busy, setBusy] = useState(false);
  usePageTitle(isNew ? 'New pipeline' : pipeline ? pipeline.name : 'Pipeline');
  useEffect(() => {
    if (pipeline) {
      setName(pipeline.name);
      setFormat(pipeline.format);
      setText(pipeline.text);
    }
  }, [pipeline]);
  const admin = can('admin');
  const latest = versions && versions.versions.length ? versions.versions[versions.versions.length - 1].version : null;
  const viewingOld = pipeline && latest && pipeline.version !== latest;
  const save = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(null);
    try {
      const v = isNew
        ? await api('POST', '/pipelines', { name, format, text })
        : await api('PUT', `/pipelines/${id}`, { name, format, text });
      setSaved(`Saved version ${v.version}`);
      if (isNew) location.hash = '#/pipelines/' + v.id;
      else if (version) location.hash = '#/pipelines/' + id;
      else reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    if (!confirm(`Delete pipeline ${pipeline.name} and all its versions?`)) return;
    try {
      await api('DELETE', `/pipelines/${id}`);
      location.hash = '#/pipelines';
    } catch (err) {
      setError(err);
    }
  };
  if (!isNew && text === null) {
    return html`<h1>Pipeline</h1><${ErrorBox} error=${loadError} />${loadError ? null : html`<p>Loading…</p>`}`;
  }
  const at = error ? errorLine(error.message) : null;
  return html`
    <h1>${isNew ? 'New pipeline' : pipeline.name}</h1>
    ${!isNew && html`<p class="muted">Version ${pipeline.version}${viewingOld ? ` (an older version; the latest is ${latest})` : ''}, saved by ${pipeline.created_by} on ${when(pipeline.created_at)}</p>`}
    <${ErrorBox} error=${loadError} />
    ${!isNew && can('operator') && html`<${RunForm} pipeline=${pipeline} />`}
    ${!isNew && can('operator') && html`<p><a id="schedule-link" href=${'#/schedules/new?pipeline=' + id}>Schedule runs of this pipeline</a></p>`}
    <form id="pipeline-form" onSubmit=${save}>
      <h2>Definition</h2>
      <div class="row">
        <div>
          <label for="pipeline-name">Name</label>
          <input id="pipeline-name" required readOnly=${!admin} value=${name} onInput=${(e) => setName(e.target.value)} />
        </div>
        <div>
          <label for="pipeline-format">Format</label>
          <select id="pipeline-format" disabled=${!admin} value=${format} onChange=${(e) => setFormat(e.target.value)}>
            <option value="yaml">YAML</option><option value="json">JSON</option><option value="toml">TOML</option>
          </select>
        </div>
      </div>
      <${CodeEditor} text=${text} source=${pipeline} setText=${setText} format=${format} readOnly=${!admin} error=${error} />
      ${error && html`<div class="error" id="save-error" role="alert">${at ? html`<strong>Line ${at.line}${at.column ? ', column ' + at.column : ''}:</strong> ` : ''}${error.message}</div>`}
      ${saved && html`<div class="notice" role="status" id="save-status">${saved}</div>`}
      ${admin && html`<div class="actions">
        <button id="save-button" class="primary" type="submit" disabled=${busy}>${isNew ? 'Create' : 'Save a new version'}</button>
        ${!isNew && html`<button type="button" class="danger" onClick=${remove}>Delete</button>`}
      </div>`}
    </form>
    ${!isNew && versions && html`
      <h2>Versions</h2>
      <table id="versions">
        <thead><tr><th scope="col">Version</th><th scope="col">Saved by</th><th scope="col">Saved</th><th scope="col">Parameters</th><th scope="col">Changes</th></tr></thead>
        <tbody>
          ${[...versions.versions].reverse().map((v) => html`<tr>
            <td><a href=${`#/pipelines/${id}?version=${v.version}`} aria-current=${v.version === pipeline.version ? 'true' : undefined}>${v.version}</a></td>
            <td>${v.created_by}</td><td>${when(v.created_at)}</td>
            <td>${v.parameters.length ? v.parameters.join(', ') : '–'}</td>
            <td>${v.version > 1 ? html`<a href=${`#/pipelines/${id}?diff=${v.version}`}>compare with ${v.version - 1}</a>` : '–'}</td></tr>`)}
        </tbody>
      </table>`}
    ${!isNew && diff >= 1 && html`<${VersionDiff} id=${id} version=${diff} from=${Number(query.get('from') || 0)} versions=${versions ? versions.versions : []} />`}`;
}
