// One run, live: its whole event history is replayed from the server and then followed as it
// happens (readRunEvents). Events are folded into a model and rendered at most once a frame, so
// a fast stream (hundreds of events a second) costs one render per frame. The title carries the
// counts of events applied and frames drawn (data-events, data-frames) for the browser test.
import { parseBoxTable } from './table.js';
import { html, api, can, readRunEvents, kFinalStates, useState, useEffect, useRef, usePageTitle, ErrorBox, State, Pure, when, bytes } from './lib.js';

function newModel() {
  return {
    state: null, reason: '', progress: 0, stages: new Map(), outputs: new Map(), logs: [],
    startedUs: 0, endedUs: 0, final: null, spillBytes: 0, events: 0, frames: 0, logSeq: 0,
  };
}

// The step `name`, marked changed (its row is drawn again at the next frame).
function step(m, name, kind) {
  if (!m.stages.has(name)) m.stages.set(name, { name, kind, percent: null, rows: null, done: false, duration: null, rev: 0 });
  const s = m.stages.get(name);
  s.rev++;
  return s;
}

// One formatter each, made once: toLocaleTimeString()/toLocaleString() build a new one per call,
// which costs about half a millisecond, too much for a thousand log lines in a frame.
const kTime = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });
const kNumber = new Intl.NumberFormat();

// A log line; its time is formatted once, here, not on every frame.
function log(m, level, message, ts) {
  m.logs.push({ level, message, time: ts ? kTime.format(new Date(ts / 1000)) + ' ' : '', seq: ++m.logSeq });
  if (m.logs.length > 5000) m.logs.splice(0, m.logs.length - 5000);
}

// Applies one event of GET /api/v1/runs/{id}/events to the model.
function apply(m, e) {
  const d = e.data || {};
  m.events++;
  switch (e.event) {
    case 'run_state':
      m.state = d.state;
      m.reason = d.reason || '';
      log(m, kFinalStates.includes(d.state) && d.state !== 'succeeded' ? 'error' : 'info', `run ${d.state}: ${d.reason || ''}`);
      break;
    case 'started':
      m.startedUs = d.ts_us || 0;
      log(m, 'info', 'started on the executor', d.ts_us);
      break;
    case 'source_registered':
      log(m, 'info', `source ${d.name} registered`, d.ts_us);
      break;
    case 'stage_started': {
      step(m, d.name, 'stage');
      break;
    }
    case 'stage_progress': {
      const s = step(m, d.name, 'step');
      if (d.percent != null) s.percent = d.percent;
      if (d.rows != null) s.rows = d.rows;
      s.eta = d.eta_ms;
      break;
    }
    case 'stage_completed': {
      const s = step(m, d.name, 'stage');
      s.done = true;
      s.percent = 100;
      if (d.rows != null) s.rows = d.rows;
      s.duration = d.duration_ms;
      break;
    }
    case 'destination_started':
      step(m, d.name, 'destination');
      break;
    case 'destination_completed': {
      const s = step(m, d.name, 'destination');
      s.kind = 'destination';
      s.done = true;
      s.percent = 100;
      if (d.rows != null) s.rows = d.rows;
      s.duration = d.duration_ms;
      break;
    }
    case 'progress':
      m.progress = Math.max(m.progress, d.progress || 0);
      break;
    case 'stage_output': {
      const key = `${d.stage_name} (${d.output_type})`;
      const out = m.outputs.get(key) || { stage: d.stage_name, type: d.output_type, chunks: [], rowsShown: null, last: false };
      out.chunks[d.sequence || 0] = d.data;
      out.rev = (out.rev || 0) + 1;
      if (d.rows_shown != null) out.rowsShown = d.rows_shown;
      if (d.last) out.last = true;
      m.outputs.set(key, out);
      break;
    }
    case 'spill':
      m.spillBytes = d.bytes;
      log(m, 'spill', `spilling to disk: ${bytes(d.bytes)} of temporary files`, d.ts_us);
      break;
    case 'log':
      log(m, d.level || 'info', d.message + (d.fields ? ' ' + JSON.stringify(d.fields) : ''), d.ts_us);
      break;
    case 'completed':
    case 'failed':
    case 'cancelled':
      m.final = { event: e.event, ...d };
      m.endedUs = d.ts_us || 0;
      if (e.event === 'completed') m.progress = 100;
      log(m, e.event === 'completed' ? 'info' : 'error', `${e.event}: ${d.message || ''}`, d.ts_us);
      break;
    case 'queued':
      log(m, 'info', `queued on the executor (position ${d.position})`, d.ts_us);
      break;
    default:
      break;  // event types added later are ignored
  }
}

// The log's last lines in blocks of 100 by sequence number: a full block is never drawn again.
const kLogShown = 1000;
function logBlocks(lines) {
  const blocks = [];
  for (const l of lines) {
    const key = Math.floor(l.seq / 100);
    if (!blocks.length || blocks[blocks.length - 1].key !== key) blocks.push({ key, lines: [] });
    blocks[blocks.length - 1].lines.push(l);
  }
  return blocks;
}

function Elapsed({ m }) {
  const [, tick] = useState(0);
  const running = m.startedUs && !m.endedUs;
  useEffect(() => {
    if (!running) return undefined;
    const t = setInterval(() => tick((x) => x + 1), 500);
    return () => clearInterval(t);
  }, [running]);
  if (!m.startedUs) return html`<span class="muted">not started</span>`;
  const end = m.endedUs || Date.now() * 1000;
  return html`<span>${((end - m.startedUs) / 1e6).toFixed(1)} s</span>`;
}

// A stage's output: a `show` preview as an HTML table (parsed from the executor's box table,
// table.js), with the text kept under "As text"; plans (`explain`: a tree, not rows), schemas
// and a preview whose rows cannot be told apart for certain stay preformatted text.
function Output({ name, out }) {
  // Joined and parsed once per change of the output, not on every frame of the page.
  if (!out.cache || out.cache.rev !== out.rev) {
    const text = out.chunks.join('');
    const preview = out.type === 'show' || out.type === 'show_limit';
    out.cache = { rev: out.rev, text, table: preview && out.last ? parseBoxTable(text, out.rowsShown) : null };
  }
  const { text, table } = out.cache;
  const pre = html`<pre class="out" tabindex="0" aria-label=${'Output of ' + name}>${text}</pre>`;
  if (!table) return pre;
  return html`<div class="preview" tabindex="0" role="region" aria-label=${'Output of ' + name} data-stage=${out.stage}>
      <table>
        <caption>${table.rows.length} ${table.rows.length === 1 ? 'row' : 'rows'} shown${' '}
          <span class="muted">(an empty cell is NULL or '')</span></caption>
        <thead><tr>${table.header.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
        <tbody>${table.rows.map((r) => html`<tr>${r.map((c) => html`<td>${c}</td>`)}</tr>`)}</tbody>
      </table>
    </div>
    <details><summary>As text</summary>${pre}</details>`;
}

export function RunPage({ id }) {
  usePageTitle('Run #' + id);
  const [run, setRun] = useState(null);
  const [error, setError] = useState(null);
  const [streamError, setStreamError] = useState(null);
  const [, setVersion] = useState(0);
  const model = useRef(newModel());
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const abort = new AbortController();
    let frame = 0;
    const render = () => {
      frame = 0;
      model.current.frames++;
      setVersion((v) => v + 1);
    };
    api('GET', `/runs/${id}`).then(setRun, setError);
    readRunEvents(id, (e) => {
      apply(model.current, e);
      if (e.event === 'run_state') api('GET', `/runs/${id}`).then(setRun, setError);
      if (!frame) frame = requestAnimationFrame(render);
    }, abort.signal).catch((e) => setStreamError(e));
    return () => {
      abort.abort();
      if (frame) cancelAnimationFrame(frame);
    };
  }, [id]);
  const m = model.current;
  const state = m.state || (run && run.state);
  const reason = m.reason || (run && run.reason);
  const final = state && kFinalStates.includes(state);
  const act = async (what) => {
    setBusy(true);
    setError(null);
    try {
      const r = await api('POST', `/runs/${id}/${what}`);
      if (what === 'rerun') location.hash = '#/runs/' + r.id;
      else setRun(r);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const stages = [...m.stages.values()];
  return html`
    <h1 id="run-title" data-events=${m.events} data-frames=${m.frames}>Run #${id}</h1>
    <${ErrorBox} error=${error} />
    <${ErrorBox} error=${streamError} />
    ${run && html`<p>
      Pipeline ${run.pipeline_id ? html`<a href=${'#/pipelines/' + run.pipeline_id}>#${run.pipeline_id}</a> version ${run.pipeline_version}` : 'sent inline'}${' '}
      · by ${run.created_by} · ${when(run.created_at)}
      ${run.executor && html` · executor <a href="#/executors">${run.executor}</a>`}
      ${run.rerun_of ? html` · re-run of <a href=${'#/runs/' + run.rerun_of}>#${run.rerun_of}</a>` : ''}
      ${Object.keys(run.parameters || {}).length ? html` · parameters ${Object.entries(run.parameters).map(([k, v]) => `${k}=${v}`).join(', ')}` : ''}
    </p>`}
    <p id="run-status" role="status" aria-live="polite">
      ${state ? html`<${State} state=${state} />` : 'loading'}${reason ? ': ' + reason : ''}
    </p>
    <p>
      <label for="run-progress" class="inline">Progress</label>
      <progress id="run-progress" max="100" value=${m.progress}></progress> ${m.progress}% · elapsed <${Elapsed} m=${m} />
      ${m.spillBytes ? html` · <span class="spill">spilled ${bytes(m.spillBytes)}</span>` : ''}
    </p>
    ${can('operator') && html`<div class="actions">
      ${!final && state && html`<button id="cancel-button" type="button" class="danger" disabled=${busy} onClick=${() => act('cancel')}>Cancel</button>`}
      ${final && html`<button id="rerun-button" type="button" disabled=${busy} onClick=${() => act('rerun')}>Re-run</button>`}
    </div>`}
    ${m.final && m.final.event === 'failed' && html`<div class="error" id="run-error" role="alert">
      <strong>Failed${m.final.code ? ` (${m.final.code})` : ''}:</strong> ${m.final.message}
      ${m.final.error_id ? html`<br /><span>Error id: <code>${m.final.error_id}</code></span>` : ''}
    </div>`}
    ${state === 'lost' && html`<div class="error" role="alert">Lost: ${reason}</div>`}
    <h2>Stages</h2>
    ${stages.length === 0 ? html`<p class="muted">No stage has started yet.</p>` : html`
    <table id="stages">
      <thead><tr><th scope="col">Step</th><th scope="col">Progress</th><th scope="col">Rows</th><th scope="col">Time</th></tr></thead>
      <tbody>
        ${stages.map((s) => html`<${Pure} key=${s.name} rev=${s.rev} draw=${() => html`<tr data-stage=${s.name} data-done=${s.done ? 'true' : 'false'}>
          <th scope="row">${s.kind === 'destination' ? 'destination ' : ''}${s.name}</th>
          <td><progress max="100" value=${s.percent ?? 0} aria-label=${'Progress of ' + s.name}></progress>
            <span class="pct">${s.percent == null ? '–' : s.percent + '%'}</span></td>
          <td class="rows" data-rows=${s.rows ?? ''}>${s.rows == null ? '–' : kNumber.format(s.rows)}</td>
          <td>${s.duration != null ? (s.duration / 1000).toFixed(2) + ' s' : s.eta ? `about ${Math.ceil(s.eta / 1000)} s left` : ''}</td></tr>`} />`)}
      </tbody>
    </table>`}
    ${m.outputs.size > 0 && html`<section id="outputs" aria-labelledby="outputs-title"><h2 id="outputs-title">Outputs</h2>
      ${[...m.outputs.entries()].map(([k, out]) => html`<${Pure} key=${k} rev=${out.rev} draw=${() => html`<h3>${k}</h3><${Output} name=${k} out=${out} />`} />`)}</section>`}
    <h2>Log</h2>
    <div class="logs" id="run-log" tabindex="0" role="log" aria-label="Run log">
      ${logBlocks(m.logs.slice(-kLogShown)).map((b) => html`<${Pure} key=${b.key} rev=${b.lines.length} draw=${() => b.lines.map((l) =>
        html`<div class=${'lv-' + l.level + (l.level === 'spill' ? ' spill' : '')}>${l.time}${l.message}</div>`)} />`)}
    </div>`;
}
