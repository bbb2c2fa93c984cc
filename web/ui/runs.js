import { html, api, useLoad, usePageTitle, ErrorBox, State, when } from './lib.js';

const kStates = ['', 'queued', 'dispatched', 'running', 'succeeded', 'failed', 'cancelled', 'lost'];

export function Runs({ query }) {
  usePageTitle('Runs');
  const state = query.get('state') || '';
  const { data, error } = useLoad(async () => {
    const [runs, pipelines] = await Promise.all([
      api('GET', '/runs?limit=200' + (state ? '&state=' + encodeURIComponent(state) : '')),
      api('GET', '/pipelines'),
    ]);
    return { runs: runs.runs, names: Object.fromEntries(pipelines.pipelines.map((p) => [p.id, p.name])) };
  }, [state], 3000);
  const setState = (e) => {
    location.hash = '#/runs' + (e.target.value ? '?state=' + e.target.value : '');
  };
  return html`
    <h1>Runs</h1>
    <div class="row">
      <div>
        <label for="state-filter">State</label>
        <select id="state-filter" value=${state} onChange=${setState}>
          ${kStates.map((s) => html`<option value=${s}>${s || 'any state'}</option>`)}
        </select>
      </div>
    </div>
    <${ErrorBox} error=${error} />
    ${data && html`
    <table>
      <caption>The newest ${data.runs.length} runs${state ? ` in state ${state}` : ''}</caption>
      <thead><tr><th scope="col">Run</th><th scope="col">Pipeline</th><th scope="col">State</th><th scope="col">Reason</th><th scope="col">Executor</th><th scope="col">Created</th></tr></thead>
      <tbody>
        ${data.runs.map((r) => html`<tr>
          <td><a href=${'#/runs/' + r.id}>#${r.id}</a></td>
          <td>${r.pipeline_id ? html`<a href=${'#/pipelines/' + r.pipeline_id}>${data.names[r.pipeline_id] || 'pipeline ' + r.pipeline_id}</a>` : 'inline'}</td>
          <td><${State} state=${r.state} /></td>
          <td>${r.reason}</td>
          <td>${r.executor || '–'}</td>
          <td>${when(r.created_at)}</td></tr>`)}
      </tbody>
    </table>`}`;
}
