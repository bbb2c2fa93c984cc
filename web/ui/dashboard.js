import { html, api, useLoad, usePageTitle, ErrorBox, State, when } from './lib.js';

const kDay = 24 * 3600 * 1000;

export function Dashboard() {
  usePageTitle('Dashboard');
  const { data, error } = useLoad(async () => {
    const [executors, runs, pipelines] = await Promise.all([
      api('GET', '/executors'), api('GET', '/runs?limit=1000'), api('GET', '/pipelines'),
    ]);
    return { executors: executors.executors, runs: runs.runs, pipelines: pipelines.pipelines };
  }, [], 3000);
  if (!data) return html`<h1>Dashboard</h1><${ErrorBox} error=${error} />${error ? null : html`<p>Loading…</p>`}`;
  const now = Date.now();
  const day = data.runs.filter((r) => now - new Date(r.created_at).getTime() < kDay);
  const count = (state) => day.filter((r) => r.state === state).length;
  const online = data.executors.filter((e) => e.online).length;
  const names = Object.fromEntries(data.pipelines.map((p) => [p.id, p.name]));
  const card = (href, n, label, id) => html`<a class="card" href=${href} id=${id}><span class="n">${n}</span><span class="l">${label}</span></a>`;
  return html`
    <h1>Dashboard</h1>
    <${ErrorBox} error=${error} />
    <div class="cards">
      ${card('#/executors', `${online} / ${data.executors.length}`, 'executors online', 'card-executors')}
      ${card('#/runs?state=running', count('running') + count('dispatched'), 'runs running (24 h)', 'card-running')}
      ${card('#/runs?state=queued', count('queued'), 'runs queued (24 h)', 'card-queued')}
      ${card('#/runs?state=failed', count('failed') + count('lost'), 'runs failed or lost (24 h)', 'card-failed')}
    </div>
    <h2>Latest runs</h2>
    ${data.runs.length === 0 ? html`<p class="muted">No run yet. Open a <a href="#/pipelines">pipeline</a> to run it.</p>` : html`
    <table>
      <thead><tr><th scope="col">Run</th><th scope="col">Pipeline</th><th scope="col">State</th><th scope="col">Executor</th><th scope="col">Created</th></tr></thead>
      <tbody>
        ${data.runs.slice(0, 10).map((r) => html`<tr>
          <td><a href=${'#/runs/' + r.id}>#${r.id}</a></td>
          <td>${r.pipeline_id ? html`<a href=${'#/pipelines/' + r.pipeline_id}>${names[r.pipeline_id] || 'pipeline ' + r.pipeline_id}</a>` : html`<span class="muted">inline</span>`}</td>
          <td><${State} state=${r.state} /></td>
          <td>${r.executor || html`<span class="muted">–</span>`}</td>
          <td>${when(r.created_at)}</td></tr>`)}
      </tbody>
    </table>`}`;
}
