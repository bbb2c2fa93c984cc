import { html, api, useLoad, usePageTitle, ErrorBox, State, when } from './lib.js';

const kStates = ['', 'queued', 'dispatched', 'running', 'succeeded', 'failed', 'cancelled', 'lost'];
const kPeriods = [['', 'any time'], ['1h', 'last hour'], ['24h', 'last 24 hours'], ['7d', 'last 7 days']];
const kPeriodMs = { '1h': 3600e3, '24h': 24 * 3600e3, '7d': 7 * 24 * 3600e3 };
const kPageSize = 50;

// The runs list; its filters and page live in the URL (#/runs?state=&pipeline=&executor=&since=&before=).
export function Runs({ query }) {
  usePageTitle('Runs');
  const f = {
    state: query.get('state') || '', pipeline: query.get('pipeline') || '', executor: query.get('executor') || '',
    since: query.get('since') || '', before: query.get('before') || '',
  };
  const key = JSON.stringify(f);
  const { data, error } = useLoad(async () => {
    const q = new URLSearchParams({ limit: String(kPageSize) });
    if (f.state) q.set('state', f.state);
    if (f.pipeline) q.set('pipeline_id', f.pipeline);
    if (f.executor) q.set('executor', f.executor);
    if (f.since) q.set('since', new Date(Date.now() - kPeriodMs[f.since]).toISOString());
    if (f.before) q.set('before', f.before);
    const [runs, pipelines, executors] = await Promise.all([
      api('GET', '/runs?' + q), api('GET', '/pipelines'), api('GET', '/executors'),
    ]);
    return { runs: runs.runs, pipelines: pipelines.pipelines, executors: executors.executors };
  }, [key], 3000);
  const go = (changes) => {
    const next = { ...f, before: '', ...changes };
    const q = new URLSearchParams(Object.entries(next).filter(([, v]) => v));
    location.hash = '#/runs' + (q.toString() ? '?' + q : '');
  };
  const names = data ? Object.fromEntries(data.pipelines.map((p) => [p.id, p.name])) : {};
  const select = (id, label, value, options, field) => html`
    <div>
      <label for=${id}>${label}</label>
      <select id=${id} value=${value} onChange=${(e) => go({ [field]: e.target.value })}>
        ${options.map(([v, text]) => html`<option value=${v}>${text}</option>`)}
      </select>
    </div>`;
  const runs = data ? data.runs : [];
  return html`
    <h1>Runs</h1>
    <div class="row">
      ${select('state-filter', 'State', f.state, kStates.map((s) => [s, s || 'any state']), 'state')}
      ${select('pipeline-filter', 'Pipeline', f.pipeline, [['', 'any pipeline'], ...(data ? data.pipelines.map((p) => [String(p.id), p.name]) : [])], 'pipeline')}
      ${select('executor-filter', 'Executor', f.executor, [['', 'any executor'], ...(data ? data.executors.map((e) => [e.name, e.name]) : [])], 'executor')}
      ${select('since-filter', 'Created', f.since, kPeriods, 'since')}
    </div>
    <${ErrorBox} error=${error} />
    ${data && html`
    <table id="runs">
      <caption>${runs.length === 0 ? 'No run matches.' : `Runs #${runs[0].id} to #${runs[runs.length - 1].id}, newest first`}</caption>
      <thead><tr><th scope="col">Run</th><th scope="col">Pipeline</th><th scope="col">State</th><th scope="col">Reason</th><th scope="col">Executor</th><th scope="col">Created</th></tr></thead>
      <tbody>
        ${runs.map((r) => html`<tr data-run=${r.id}>
          <td><a href=${'#/runs/' + r.id}>#${r.id}</a></td>
          <td>${r.pipeline_id ? html`<a href=${'#/pipelines/' + r.pipeline_id}>${names[r.pipeline_id] || 'pipeline ' + r.pipeline_id}</a>` : 'inline'}</td>
          <td><${State} state=${r.state} /></td>
          <td>${r.reason}</td>
          <td>${r.executor || '–'}</td>
          <td>${when(r.created_at)}</td></tr>`)}
      </tbody>
    </table>
    <nav class="actions" aria-label="Pages of runs">
      ${f.before && html`<button type="button" onClick=${() => go({})}>Newest runs</button>`}
      ${runs.length === kPageSize && html`<button type="button" id="older-runs" onClick=${() => go({ before: String(runs[runs.length - 1].id) })}>Older runs</button>`}
    </nav>`}`;
}
