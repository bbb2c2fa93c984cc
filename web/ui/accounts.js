// Users and API tokens (admins only): GET/POST /api/v1/users, PATCH/DELETE /api/v1/users/{id},
// GET /api/v1/tokens, POST /api/v1/users/{id}/tokens and DELETE /api/v1/tokens/{id}. A new token's secret is shown
// once, in the page that created it; the server keeps only its hash and never lists it.
import { html, api, can, session, refreshSession, useLoad, useState, usePageTitle, ErrorBox, when } from './lib.js';

const kRoles = ['viewer', 'operator', 'admin'];

function AdminsOnly({ title }) {
  return html`<h1>${title}</h1><p class="error" role="alert">Only admins manage users and API tokens.</p>`;
}

function NewUser({ done }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState('viewer');
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      const u = await api('POST', '/users', { name, password, role });
      setNotice(`User ${u.name} created with role ${u.role}.`);
      setName('');
      setPassword('');
      done();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`
    <form id="user-form" onSubmit=${submit}>
      <h2>New user</h2>
      <div class="row">
        <div>
          <label for="new-user-name">User name</label>
          <input id="new-user-name" required autocomplete="off" value=${name} onInput=${(e) => setName(e.target.value)} />
        </div>
        <div>
          <label for="new-user-password">Password (at least 8 characters)</label>
          <input id="new-user-password" type="password" required minlength="8" autocomplete="new-password" value=${password}
            onInput=${(e) => setPassword(e.target.value)} />
        </div>
        <div>
          <label for="new-user-role">Role</label>
          <select id="new-user-role" value=${role} onChange=${(e) => setRole(e.target.value)}>
            ${kRoles.map((r) => html`<option value=${r}>${r}</option>`)}
          </select>
        </div>
        <div><button id="create-user" class="primary" type="submit" disabled=${busy}>Create user</button></div>
      </div>
      <${ErrorBox} error=${error} />
      ${notice && html`<div class="notice" role="status" id="user-status">${notice}</div>`}
    </form>`;
}

export function Users({ query }) {
  usePageTitle('Users');
  const deleted = query ? query.get('deleted') : null;
  const admin = can('admin');
  const { data, error, reload } = useLoad(() => (admin ? api('GET', '/users') : Promise.resolve(null)), [admin]);
  if (!admin) return html`<${AdminsOnly} title="Users" />`;
  return html`
    <h1>Users</h1>
    <${ErrorBox} error=${error} />
    ${deleted && html`<div class="notice" role="status" id="users-status">User ${deleted} deleted.</div>`}
    ${data && html`
    <table id="users">
      <thead><tr><th scope="col">User</th><th scope="col">Role</th><th scope="col">Created</th><th scope="col">API tokens</th></tr></thead>
      <tbody>
        ${data.users.map((u) => html`<tr data-user=${u.name}>
          <th scope="row"><a href=${'#/users/' + u.id} aria-label=${'User ' + u.name + ': role, password, delete'}>${u.name}</a></th>
          <td class="role">${u.role}</td><td>${when(u.created_at)}</td>
          <td><a href=${'#/tokens?user=' + u.id} aria-label=${'API tokens of ' + u.name}>tokens</a></td></tr>`)}
      </tbody>
    </table>`}
    <${NewUser} done=${reload} />
    <p class="muted">Roles: a viewer reads everything; an operator also runs, cancels and re-runs pipelines and
      manages schedules; an admin also edits pipelines, users, API tokens and executor registrations.</p>`;
}

// One user (#/users/{id}): change the role or the password, or delete the user. The server keeps
// the rules (the last admin stays an admin; a lowered role lowers the user's tokens; a deleted
// user's tokens and sessions stop working) and its refusals are shown here.
export function UserPage({ id }) {
  const admin = can('admin');
  const { data, error, reload } = useLoad(() => (admin ? api('GET', '/users') : Promise.resolve(null)), [admin, id]);
  const user = data ? data.users.find((u) => String(u.id) === id) : null;
  usePageTitle(user ? 'User ' + user.name : 'User');
  const [role, setRole] = useState('');
  const [password, setPassword] = useState('');
  const [notice, setNotice] = useState(null);
  const [roleError, setRoleError] = useState(null);
  const [passwordError, setPasswordError] = useState(null);
  const [deleteError, setDeleteError] = useState(null);
  const [busy, setBusy] = useState(false);
  if (!admin) return html`<${AdminsOnly} title="User" />`;
  if (!data) return html`<h1>User</h1><${ErrorBox} error=${error} />${error ? null : html`<p>Loading…</p>`}`;
  if (!user) return html`<h1>User</h1><p class="error" role="alert">No user with id ${id}.</p><p><a href="#/users">All users</a></p>`;
  const self = (session() || {}).user === user.name;
  const run = async (what, setError, call) => {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      await call();
      setNotice(what);
      if (self) await refreshSession();
      reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const chosen = role || user.role;
  const changeRole = (e) => {
    e.preventDefault();
    run(`${user.name} now has role ${chosen}.`, setRoleError, () => api('PATCH', `/users/${user.id}`, { role: chosen }));
  };
  const changePassword = (e) => {
    e.preventDefault();
    run(`The password of ${user.name} is changed.`, setPasswordError, async () => {
      await api('PATCH', `/users/${user.id}`, { password });
      setPassword('');
    });
  };
  const remove = async () => {
    if (!confirm(`Delete user ${user.name}? Their API tokens and browser sessions stop working at once.${self ? ' It is you: this browser will be signed out.' : ''}`)) return;
    setBusy(true);
    setDeleteError(null);
    try {
      await api('DELETE', `/users/${user.id}`);
      location.hash = '#/users?deleted=' + encodeURIComponent(user.name);
    } catch (e) {
      setDeleteError(e);
      setBusy(false);
    }
  };
  return html`
    <h1>User ${user.name}</h1>
    <p id="user-summary">Role <strong class="role">${user.role}</strong> · created ${when(user.created_at)} ·
      <a href=${'#/tokens?user=' + user.id}>API tokens of ${user.name}</a> · <a href="#/users">All users</a></p>
    ${notice && html`<div class="notice" role="status" id="user-status">${notice}</div>`}
    <form id="role-form" onSubmit=${changeRole}>
      <h2>Role</h2>
      <div class="row">
        <div>
          <label for="user-role">Role of ${user.name}</label>
          <select id="user-role" value=${chosen} onChange=${(e) => setRole(e.target.value)}>
            ${kRoles.map((r) => html`<option value=${r}>${r}</option>`)}
          </select>
        </div>
        <div><button id="save-role" class="primary" type="submit" disabled=${busy || chosen === user.role}>Change role</button></div>
      </div>
      <p class="muted">A lower role lowers the user's API tokens and browser sessions at once; after a higher
        role, new tokens and sign-ins get it.</p>
      <${ErrorBox} error=${roleError} />
    </form>
    <form id="password-form" onSubmit=${changePassword}>
      <h2>Password</h2>
      <div class="row">
        <div>
          <label for="user-password">New password (at least 8 characters)</label>
          <input id="user-password" type="password" required minlength="8" autocomplete="new-password" value=${password}
            onInput=${(e) => setPassword(e.target.value)} />
        </div>
        <div><button id="save-password" class="primary" type="submit" disabled=${busy}>Set password</button></div>
      </div>
      <p class="muted">The old password stops working at once; the user's API tokens and sessions are kept
        (revoke them on the <a href=${'#/tokens?user=' + user.id}>API tokens</a> page if the password leaked).</p>
      <${ErrorBox} error=${passwordError} />
    </form>
    <h2>Delete</h2>
    <p><button id="delete-user" type="button" class="danger" disabled=${busy} onClick=${remove}>Delete user ${user.name}</button></p>
    <${ErrorBox} error=${deleteError} />`;
}

function NewToken({ users, user, setUser, done }) {
  const [name, setName] = useState('');
  const [role, setRole] = useState('');
  const [error, setError] = useState(null);
  const [created, setCreated] = useState(null);
  const [copied, setCopied] = useState('');
  const [busy, setBusy] = useState(false);
  const owner = users.find((u) => String(u.id) === user);
  const roles = owner ? kRoles.slice(0, kRoles.indexOf(owner.role) + 1) : kRoles;
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setCreated(null);
    setCopied('');
    try {
      const body = { name: name || 'api token' };
      if (role && roles.includes(role)) body.role = role;
      setCreated(await api('POST', `/users/${user}/tokens`, body));
      setName('');
      done();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.token);
      setCopied('Copied to the clipboard.');
    } catch (err) {
      setCopied(`Could not copy (${err.message}); select the text and copy it.`);
    }
  };
  return html`
    <form id="token-form" onSubmit=${submit}>
      <h2>New API token</h2>
      <div class="row">
        <div>
          <label for="token-user">For user</label>
          <select id="token-user" required value=${user} onChange=${(e) => setUser(e.target.value)}>
            <option value="">choose a user</option>
            ${users.map((u) => html`<option value=${String(u.id)}>${u.name} (${u.role})</option>`)}
          </select>
        </div>
        <div>
          <label for="token-name">Token name</label>
          <input id="token-name" placeholder="api token" value=${name} onInput=${(e) => setName(e.target.value)} />
        </div>
        <div>
          <label for="token-role">Role</label>
          <select id="token-role" value=${roles.includes(role) ? role : ''} onChange=${(e) => setRole(e.target.value)}>
            <option value="">the user's role${owner ? ` (${owner.role})` : ''}</option>
            ${roles.map((r) => html`<option value=${r}>${r}</option>`)}
          </select>
        </div>
        <div><button id="create-token" class="primary" type="submit" disabled=${busy || !user}>Create token</button></div>
      </div>
      <${ErrorBox} error=${error} />
    </form>
    ${created && html`<section class="notice" id="new-token" aria-labelledby="new-token-title">
      <h3 id="new-token-title">Token ${created.name} for ${created.user} (${created.role})</h3>
      <p>This is the only time the secret is shown: copy it now. Send it as <code>Authorization: Bearer …</code>.</p>
      <pre class="out" id="new-token-secret" tabindex="0" aria-label="The new token's secret">${created.token}</pre>
      <p><button type="button" onClick=${copy}>Copy</button> <span role="status">${copied}</span></p>
    </section>`}`;
}

export function Tokens({ query }) {
  usePageTitle('API tokens');
  const admin = can('admin');
  const [user, setUser] = useState(query.get('user') || '');
  const [actionError, setActionError] = useState(null);
  const { data, error, reload } = useLoad(async () => {
    if (!admin) return null;
    const [tokens, users] = await Promise.all([api('GET', '/tokens'), api('GET', '/users')]);
    return { tokens: tokens.tokens, users: users.users };
  }, [admin]);
  if (!admin) return html`<${AdminsOnly} title="API tokens" />`;
  const mine = (session() || {}).id;
  const revoke = async (t) => {
    const self = t.id === mine;
    if (!confirm(`Revoke token "${t.name}" of ${t.user}? ${self ? 'It is this browser\'s session: you will be signed out.' : 'Its secret stops working at once.'}`)) return;
    setActionError(null);
    try {
      await api('DELETE', `/tokens/${t.id}`);
      reload();
    } catch (e) {
      setActionError(e);
    }
  };
  // The list shows one user's tokens when the URL names one (#/tokens?user=ID), else all.
  const filter = query.get('user') || '';
  const owner = data && filter ? data.users.find((u) => String(u.id) === filter) : null;
  const shown = data ? data.tokens.filter((t) => !filter || (owner && t.user === owner.name)) : [];
  return html`
    <h1>API tokens</h1>
    <${ErrorBox} error=${error || actionError} />
    ${data && html`<${NewToken} users=${data.users} user=${user} setUser=${setUser} done=${reload} />`}
    ${data && html`
    <h2>Tokens${filter ? html` of ${owner ? owner.name : 'user ' + filter} <a href="#/tokens">(show all)</a>` : ''}</h2>
    <table id="tokens">
      <caption>Secrets are never listed: the server keeps only their SHA-256.</caption>
      <thead><tr><th scope="col">Token</th><th scope="col">User</th><th scope="col">Role</th><th scope="col">Created</th><th scope="col">Actions</th></tr></thead>
      <tbody>
        ${shown.map((t) => html`<tr data-token=${t.id}>
          <th scope="row">${t.name}${t.id === mine ? html` <span class="muted">(this browser)</span>` : ''}</th>
          <td>${t.user}</td><td>${t.role}</td><td>${when(t.created_at)}</td>
          <td><button type="button" class="danger revoke" aria-label=${`Revoke token ${t.name} of ${t.user}`} onClick=${() => revoke(t)}>Revoke</button></td></tr>`)}
      </tbody>
    </table>`}`;
}
