import { html, api, can, useLoad, useState, usePageTitle, ErrorBox, State, when, bytes } from './lib.js';

function RegistrationToken() {
  const [token, setToken] = useState(null);
  const [error, setError] = useState(null);
  const create = async () => {
    setError(null);
    try {
      setToken((await api('POST', '/executors/registration-tokens')).token);
    } catch (e) {
      setError(e);
    }
  };
  return html`
    <h2>Register an executor</h2>
    <p><button type="button" onClick=${create}>Create a registration token</button></p>
    <${ErrorBox} error=${error} />
    ${token && html`<p>Shown once; start the executor with it:</p>
      <pre class="out" id="registration-command">aqueducts-executor --server-url ${location.origin} --executor-id NAME --registration-token ${token} [--labels k=v]</pre>`}`;
}

export function Executors() {
  usePageTitle('Executors');
  const { data, error } = useLoad(() => api('GET', '/executors'), [], 2000);
  const list = data ? data.executors : [];
  return html`
    <h1>Executors</h1>
    <${ErrorBox} error=${error} />
    ${data && list.length === 0 && html`<p class="muted">No executor is registered yet.</p>`}
    ${list.length > 0 && html`
    <table id="executors">
      <thead><tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Last heartbeat</th><th scope="col">Labels</th>
        <th scope="col">Current run</th><th scope="col">Queue</th><th scope="col">Memory limit</th><th scope="col">Version</th></tr></thead>
      <tbody>
        ${list.map((e) => html`<tr data-executor=${e.name}>
          <th scope="row">${e.name}</th>
          <td><${State} state=${e.status} />${e.online && !e.connected ? html` <span class="muted">(work stream closed)</span>` : ''}</td>
          <td>${when(e.last_heartbeat)}</td>
          <td class="labels">${Object.entries(e.labels || {}).map(([k, v]) => html`<span>${k}=${v}</span>`)}</td>
          <td>${e.current_run ? html`<a href=${'#/runs/' + e.current_run}>#${e.current_run}</a>` : '–'}</td>
          <td>${Array.isArray(e.queue) ? e.queue.length : e.queue ?? '–'}</td>
          <td>${e.memory_limit_bytes ? bytes(e.memory_limit_bytes) : '–'}</td>
          <td>${e.version || '–'}</td></tr>`)}
      </tbody>
    </table>`}
    ${can('admin') && html`<${RegistrationToken} />`}`;
}
