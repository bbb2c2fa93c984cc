// Schedules (GET/POST /api/v1/schedules): the list with the next fire times, one schedule with
// its fire records, and the form that creates one. Operators and admins create, pause, resume
// and delete; viewers only read (the buttons are not shown to them).
import { html, api, can, useLoad, useState, usePageTitle, ErrorBox, State, when } from './lib.js';

// "2026-03-29T03:00:00+02:00" as "2026-03-29 03:00 (+02:00)": the wall-clock time in the
// schedule's zone, as the server computed it (the browser's own zone plays no part).
function local(ts) {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)(?::\d\d)?(Z|[+-]\d\d:\d\d)$/.exec(ts || '');
  return m ? `${m[1]} ${m[2]} (${m[3] === 'Z' ? 'UTC' : m[3]})` : ts || '–';
}

function target(s) {
  if (s.executor) return `executor ${s.executor}`;
  if (s.label) return `label ${s.label}`;
  return 'any online executor';
}

function Fire({ fire }) {
  if (!fire) return html`<span class="muted">never fired</span>`;
  return html`<span class=${'fire-' + fire.outcome}>${fire.outcome}</span>
    ${fire.run_id ? html` <a href=${'#/runs/' + fire.run_id}>run #${fire.run_id}</a>` : ''}
    <span class="muted"> · ${when(fire.fire_at)}</span>`;
}

// Pause/Resume and Delete of one schedule; `done(schedule|null)` after a change.
function Actions({ s, done, setError }) {
  const [busy, setBusy] = useState(false);
  const act = async (method, path, confirmText) => {
    if (confirmText && !confirm(confirmText)) return;
    setBusy(true);
    setError(null);
    try {
      done(await api(method, path));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const name = `schedule #${s.id} (${s.cron})`;
  return html`<span class="actions inline-actions">
    ${s.paused
      ? html`<button type="button" class="resume" disabled=${busy} aria-label=${'Resume ' + name}
          onClick=${() => act('POST', `/schedules/${s.id}/resume`)}>Resume</button>`
      : html`<button type="button" class="pause" disabled=${busy} aria-label=${'Pause ' + name}
          onClick=${() => act('POST', `/schedules/${s.id}/pause`)}>Pause</button>`}
    <button type="button" class="danger delete" disabled=${busy} aria-label=${'Delete ' + name}
      onClick=${() => act('DELETE', `/schedules/${s.id}`, `Delete ${name}? Runs it started are kept.`)}>Delete</button>
  </span>`;
}

export function Schedules() {
  usePageTitle('Schedules');
  const [actionError, setActionError] = useState(null);
  const { data, error, reload } = useLoad(async () => {
    const [schedules, pipelines] = await Promise.all([api('GET', '/schedules'), api('GET', '/pipelines')]);
    return { schedules: schedules.schedules, names: Object.fromEntries(pipelines.pipelines.map((p) => [p.id, p.name])) };
  }, [], 5000);
  const operator = can('operator');
  return html`
    <h1>Schedules</h1>
    ${operator && html`<p><a class="button primary" id="new-schedule" href="#/schedules/new">New schedule</a></p>`}
    <${ErrorBox} error=${error || actionError} />
    ${data && data.schedules.length === 0 && html`<p class="muted">No schedule yet.</p>`}
    ${data && data.schedules.length > 0 && html`
    <table id="schedules">
      <caption>Fire times are wall-clock times in each schedule's time zone.</caption>
      <thead><tr><th scope="col">Schedule</th><th scope="col">Pipeline</th><th scope="col">Cron</th><th scope="col">Time zone</th>
        <th scope="col">State</th><th scope="col">Next fire</th><th scope="col">Last fire</th>${operator && html`<th scope="col">Actions</th>`}</tr></thead>
      <tbody>
        ${data.schedules.map((s) => html`<tr data-schedule=${s.id}>
          <td><a href=${'#/schedules/' + s.id}>#${s.id}</a></td>
          <td><a href=${'#/pipelines/' + s.pipeline_id}>${data.names[s.pipeline_id] || 'pipeline ' + s.pipeline_id}</a></td>
          <td><code>${s.cron}</code></td>
          <td>${s.time_zone}</td>
          <td><${State} state=${s.paused ? 'paused' : 'active'} /></td>
          <td class="next-fire">${s.paused ? html`<span class="muted">paused</span>` : local(s.next_fire_times_local[0])}</td>
          <td><${Fire} fire=${s.last_fire} /></td>
          ${operator && html`<td><${Actions} s=${s} done=${reload} setError=${setActionError} /></td>`}</tr>`)}
      </tbody>
    </table>`}`;
}

export function SchedulePage({ id }) {
  usePageTitle('Schedule #' + id);
  const [actionError, setActionError] = useState(null);
  const { data: s, error, reload } = useLoad(() => api('GET', `/schedules/${id}`), [id], 5000);
  const { data: pipeline } = useLoad(() => (s ? api('GET', `/pipelines/${s.pipeline_id}`).catch(() => null) : Promise.resolve(null)), [s && s.pipeline_id]);
  if (!s) return html`<h1>Schedule #${id}</h1><${ErrorBox} error=${error} />${error ? null : html`<p>Loading…</p>`}`;
  const params = Object.entries(s.parameters || {});
  return html`
    <h1>Schedule #${s.id}</h1>
    <${ErrorBox} error=${error || actionError} />
    <p id="schedule-summary">
      Runs <a href=${'#/pipelines/' + s.pipeline_id}>${pipeline ? pipeline.name : 'pipeline ' + s.pipeline_id}</a> (its latest version)
      at <code>${s.cron}</code> in ${s.time_zone}, on ${target(s)}.
      ${params.length ? html` Parameters: ${params.map(([k, v]) => `${k}=${v}`).join(', ')}.` : ''}${' '}
      Created by ${s.created_by} on ${when(s.created_at)}.
    </p>
    <p id="schedule-state" role="status"><${State} state=${s.paused ? 'paused' : 'active'} /></p>
    ${can('operator') && html`<p><${Actions} s=${s} setError=${setActionError}
      done=${(r) => (r ? reload() : (location.hash = '#/schedules'))} /></p>`}
    <h2>Next fire times</h2>
    ${s.paused ? html`<p class="muted">None while paused; resuming computes them from then on.</p>` : html`
    <table id="next-fires">
      <thead><tr><th scope="col">In ${s.time_zone}</th><th scope="col">UTC</th></tr></thead>
      <tbody>${s.next_fire_times.map((t, i) => html`<tr><td>${local(s.next_fire_times_local[i])}</td><td>${local(t)}</td></tr>`)}</tbody>
    </table>`}
    <h2>Fires</h2>
    ${s.fires.length === 0 ? html`<p class="muted">Not fired yet.</p>` : html`
    <table id="fires">
      <caption>The last ${s.fires.length} fires, newest first</caption>
      <thead><tr><th scope="col">Fire time</th><th scope="col">Outcome</th><th scope="col">Run</th><th scope="col">Reason</th></tr></thead>
      <tbody>${s.fires.map((f) => html`<tr>
        <td>${when(f.fire_at)}</td><td>${f.outcome}</td>
        <td>${f.run_id ? html`<a href=${'#/runs/' + f.run_id}>#${f.run_id}</a>` : '–'}</td><td>${f.reason}</td></tr>`)}</tbody>
    </table>`}`;
}

let zones = null;
function timeZones() {
  if (!zones) {
    try {
      zones = Intl.supportedValuesOf('timeZone');
    } catch {
      zones = [];
    }
    if (!zones.includes('UTC')) zones = ['UTC', ...zones];
  }
  return zones;
}

export function NewSchedule({ query }) {
  usePageTitle('New schedule');
  const { data: lists, error: loadError } = useLoad(async () => {
    const [pipelines, executors] = await Promise.all([api('GET', '/pipelines'), api('GET', '/executors')]);
    return { pipelines: pipelines.pipelines, executors: executors.executors };
  }, []);
  const [pipelineId, setPipelineId] = useState(query.get('pipeline') || '');
  const { data: pipeline, error: pipelineError } = useLoad(
    () => (pipelineId ? api('GET', `/pipelines/${pipelineId}`) : Promise.resolve(null)), [pipelineId]);
  const [cron, setCron] = useState('0 * * * *');
  const [zone, setZone] = useState('UTC');
  const [where, setWhere] = useState('');
  const [params, setParams] = useState({});
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  if (!can('operator')) {
    return html`<h1>New schedule</h1><p class="error" role="alert">Only operators and admins create schedules.</p>`;
  }
  const executors = lists ? lists.executors : [];
  const labels = [...new Set(executors.flatMap((e) => Object.entries(e.labels || {}).map(([k, v]) => `${k}=${v}`)))].sort();
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body = { pipeline_id: Number(pipelineId), cron, time_zone: zone, parameters: {} };
    for (const p of pipeline ? pipeline.parameters : []) body.parameters[p] = params[p] || '';
    if (where.startsWith('executor:')) body.executor = where.slice(9);
    if (where.startsWith('label:')) body.label = where.slice(6);
    try {
      const s = await api('POST', '/schedules', body);
      location.hash = '#/schedules/' + s.id;
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return html`
    <h1>New schedule</h1>
    <${ErrorBox} error=${loadError || pipelineError} />
    <form id="schedule-form" onSubmit=${submit}>
      <div class="row">
        <div>
          <label for="schedule-pipeline">Pipeline</label>
          <select id="schedule-pipeline" required value=${pipelineId} onChange=${(e) => setPipelineId(e.target.value)}>
            <option value="">choose a pipeline</option>
            ${(lists ? lists.pipelines : []).map((p) => html`<option value=${String(p.id)}>${p.name}</option>`)}
          </select>
        </div>
        <div>
          <label for="schedule-cron">Cron expression</label>
          <input id="schedule-cron" required value=${cron} aria-describedby="cron-help" spellcheck="false"
            onInput=${(e) => setCron(e.target.value)} />
        </div>
        <div>
          <label for="schedule-zone">Time zone</label>
          <input id="schedule-zone" required value=${zone} list="zone-list" spellcheck="false" onInput=${(e) => setZone(e.target.value)} />
          <datalist id="zone-list">${timeZones().map((z) => html`<option value=${z}></option>`)}</datalist>
        </div>
        <div>
          <label for="schedule-target">Where</label>
          <select id="schedule-target" value=${where} onChange=${(e) => setWhere(e.target.value)}>
            <option value="">any online executor</option>
            ${executors.map((x) => html`<option value=${'executor:' + x.name}>executor ${x.name}</option>`)}
            ${labels.map((l) => html`<option value=${'label:' + l}>any executor with label ${l}</option>`)}
          </select>
        </div>
      </div>
      <p id="cron-help" class="muted">Five fields: minute hour day-of-month month day-of-week, e.g. <code>30 2 * * MON-FRI</code> or <code>*/15 * * * *</code>; also <code>@hourly</code>, <code>@daily</code>, <code>@weekly</code>, <code>@monthly</code>.
        Times are wall-clock times in the time zone.</p>
      ${pipeline && pipeline.parameters.length > 0 && html`
        <fieldset id="schedule-parameters"><legend>Parameters of ${pipeline.name}</legend>
          <div class="row">
            ${pipeline.parameters.map((p) => html`<div>
              <label for=${'sparam-' + p}>Parameter <code>${p}</code></label>
              <input id=${'sparam-' + p} required value=${params[p] || ''} onInput=${(e) => setParams({ ...params, [p]: e.target.value })} />
            </div>`)}
          </div>
        </fieldset>`}
      <${ErrorBox} error=${error} />
      <p><button id="create-schedule" class="primary" type="submit" disabled=${busy}>Create schedule</button></p>
    </form>`;
}
