import { html, api, can, useLoad, usePageTitle, ErrorBox, State, when } from './lib.js';

export function Pipelines() {
  usePageTitle('Pipelines');
  const { data, error } = useLoad(async () => {
    const [pipelines, runs] = await Promise.all([api('GET', '/pipelines'), api('GET', '/runs?limit=1000')]);
    const last = {};
    for (const r of runs.runs) if (r.pipeline_id && !last[r.pipeline_id]) last[r.pipeline_id] = r;  // newest first
    return { pipelines: pipelines.pipelines, last };
  }, [], 5000);
  return html`
    <h1>Pipelines</h1>
    ${can('admin') && html`<p><a class="button primary" href="#/pipelines/new">New pipeline</a></p>`}
    <${ErrorBox} error=${error} />
    ${data && data.pipelines.length === 0 && html`<p class="muted">No pipeline is stored yet.</p>`}
    ${data && data.pipelines.length > 0 && html`
    <table id="pipelines">
      <thead><tr><th scope="col">Name</th><th scope="col">Version</th><th scope="col">Updated</th><th scope="col">Last run</th></tr></thead>
      <tbody>
        ${data.pipelines.map((p) => {
          const r = data.last[p.id];
          return html`<tr>
            <td><a href=${'#/pipelines/' + p.id}>${p.name}</a></td>
            <td>${p.latest_version}</td>
            <td>${when(p.updated_at)}</td>
            <td>${r ? html`<a href=${'#/runs/' + r.id}>#${r.id}</a> <${State} state=${r.state} />` : html`<span class="muted">never run</span>`}</td></tr>`;
        })}
      </tbody>
    </table>`}`;
}
