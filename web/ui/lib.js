// Shared pieces of the web UI: rendering (Preact + htm), the API client, the run event stream
// reader and the hash router. Every API error becomes an ApiError with the server's message.
import { h, render, Component } from './vendor/preact.js';
import { useState, useEffect, useRef, useCallback } from './vendor/hooks.js';
import htm from './vendor/htm.js';

export const html = htm.bind(h);
export { render, useState, useEffect, useRef, useCallback };

// Draws `draw()` again only when the `rev` prop changes: for the parts of a page that a fast
// stream leaves as they are (a finished step, an old block of log lines).
export class Pure extends Component {
  shouldComponentUpdate(next) {
    return next.rev !== this.props.rev;
  }

  render({ draw }) {
    return draw();
  }
}

const kSessionKey = 'aqueducts.session';
const kRoles = ['viewer', 'operator', 'admin'];
const kNoticeKey = 'aqueducts.notice';

// The signed-in user: {id, user, role, csrf}, or null. The session itself is an HttpOnly cookie
// that scripts cannot read; `csrf` goes with every request that changes something.
export function session() {
  try {
    return JSON.parse(localStorage.getItem(kSessionKey));
  } catch {
    return null;
  }
}

// True when the signed-in user's role includes `role` (viewer < operator < admin).
export function can(role) {
  const s = session();
  return !!s && kRoles.indexOf(s.role) >= kRoles.indexOf(role);
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function errorOf(res) {
  let message = `HTTP ${res.status}`;
  try {
    const body = await res.json();
    if (body && body.error) message = body.error;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(res.status, message);
}

function signedOut() {
  localStorage.removeItem(kSessionKey);
  if (!location.hash.startsWith('#/signin')) {
    location.hash = '#/signin?next=' + encodeURIComponent(location.hash.slice(1) || '/');
  }
}

// Calls /api/v1`path`; the parsed JSON answer, null for 204. Throws ApiError.
export async function api(method, path, body) {
  const s = session();
  const headers = { Accept: 'application/json' };
  if (s && method !== 'GET') headers['X-CSRF-Token'] = s.csrf;
  const init = { method, headers, credentials: 'same-origin' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  } else if (method === 'POST' || method === 'PUT') {
    init.body = '';
  }
  let res;
  try {
    res = await fetch('/api/v1' + path, init);
  } catch (e) {
    throw new ApiError(0, `The server cannot be reached (${e.message})`);
  }
  if (res.status === 401 && s) signedOut();
  if (!res.ok) throw await errorOf(res);
  return res.status === 204 ? null : res.json();
}

// Exchanges a user's name and password for a browser session (POST /api/v1/sessions, Basic
// auth): the server sets the HttpOnly session cookie and answers the CSRF token. Its 401 carries
// no Basic challenge, so the browser shows no password dialog of its own: the page shows it.
export async function signIn(user, password) {
  const basic = btoa(String.fromCharCode(...new TextEncoder().encode(user + ':' + password)));
  const res = await fetch('/api/v1/sessions', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { Authorization: 'Basic ' + basic, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'web ui' }),
  });
  if (!res.ok) throw await errorOf(res);
  const t = await res.json();
  localStorage.setItem(kSessionKey, JSON.stringify({ id: t.id, user: t.user, role: t.role, csrf: t.csrf_token }));
}

// Reads the signed-in user's role again (GET /api/v1/me) after it may have changed, so the pages
// show what the session may do.
export async function refreshSession() {
  const s = session();
  if (!s) return;
  const me = await api('GET', '/me');
  localStorage.setItem(kSessionKey, JSON.stringify({ ...s, user: me.user, role: me.role }));
}

// Deletes the browser's session on the server (DELETE /api/v1/tokens/current; the answer also
// clears the cookie), then forgets it.
// A failure to delete is reported on the sign-in page, not dropped.
export async function signOut() {
  try {
    await api('DELETE', '/tokens/current');
  } catch (e) {
    if (e.status !== 401) {
      sessionStorage.setItem(kNoticeKey, `Signed out in this browser, but the server did not delete the token: ${e.message}`);
    }
  }
  localStorage.removeItem(kSessionKey);
  location.hash = '#/signin';
}

// A message left for the sign-in page (read once).
export function takeNotice() {
  const n = sessionStorage.getItem(kNoticeKey);
  sessionStorage.removeItem(kNoticeKey);
  return n;
}

// Reads GET /api/v1/runs/{id}/events: calls onEvent({id, event, data}) for every event, in order,
// from the first (the stored history is replayed) until the stream ends after the run's final
// state. A dropped connection is reopened with Last-Event-ID so nothing is lost or repeated.
// Read with fetch rather than EventSource to send Last-Event-ID on every reopening.
export async function readRunEvents(runId, onEvent, signal) {
  let lastId = 0;
  let failures = 0;
  for (;;) {
    const headers = { Accept: 'text/event-stream' };
    if (lastId > 0) headers['Last-Event-ID'] = String(lastId);
    let res;
    try {
      res = await fetch(`/api/v1/runs/${runId}/events`, { headers, signal, credentials: 'same-origin' });
    } catch (e) {
      if (signal.aborted) return;
      if (++failures > 30) throw new ApiError(0, `The event stream cannot be reopened (${e.message})`);
      await new Promise((r) => setTimeout(r, Math.min(5000, 200 * failures)));
      continue;
    }
    if (res.status === 401) signedOut();
    if (!res.ok) throw await errorOf(res);
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let finished = false;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        // A chunk may hold thousands of events (the replayed history): frames are cut at a moving
        // index and the rest kept once, so a chunk costs time linear in its size.
        let start = 0;
        let end;
        while ((end = buffer.indexOf('\n\n', start)) >= 0) {
          const frame = buffer.slice(start, end);
          start = end + 2;
          const e = { id: 0, event: '', data: '' };
          const data = [];
          for (const line of frame.split('\n')) {
            if (line.startsWith('id: ')) e.id = Number(line.slice(4));
            else if (line.startsWith('event: ')) e.event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (!e.event) continue;  // a keepalive comment
          try {
            e.data = JSON.parse(data.join('\n'));
          } catch {
            e.data = { raw: data.join('\n') };
          }
          lastId = e.id || lastId;
          failures = 0;
          onEvent(e);
          if (e.event === 'run_state' && kFinalStates.includes(e.data.state)) finished = true;
        }
        buffer = buffer.slice(start);
      }
    } catch (e) {
      if (signal.aborted) return;
    }
    if (finished || signal.aborted) return;
    if (++failures > 30) throw new ApiError(0, 'The event stream keeps ending before the run does');
    await new Promise((r) => setTimeout(r, Math.min(5000, 200 * failures)));
  }
}

export const kFinalStates = ['succeeded', 'failed', 'cancelled', 'lost'];

// The current route: {path: '/runs/7', parts: ['runs', '7'], query: URLSearchParams}.
function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, q] = raw.split('?');
  return { path, parts: path.split('/').filter(Boolean), query: new URLSearchParams(q || '') };
}

export function useRoute() {
  const [route, setRoute] = useState(parseHash());
  useEffect(() => {
    const on = () => setRoute(parseHash());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

// Loads `load()` now, again every `everyMs` (0: once) and whenever `deps` change.
// {data, error, reload}; errors are kept and shown, never swallowed.
export function useLoad(load, deps, everyMs = 0) {
  const [state, setState] = useState({ data: null, error: null });
  const reload = useCallback(() => {
    load().then((data) => setState({ data, error: null }), (error) => setState((s) => ({ data: s.data, error })));
  }, deps);
  useEffect(() => {
    reload();
    if (!everyMs) return undefined;
    const t = setInterval(reload, everyMs);
    return () => clearInterval(t);
  }, [reload]);
  return { ...state, reload };
}

export function ErrorBox({ error }) {
  if (!error) return null;
  return html`<div class="error" role="alert">${error.message || String(error)}</div>`;
}

export function State({ state }) {
  return html`<span class=${'state state-' + state}>${state}</span>`;
}

export function when(ts) {
  if (!ts) return '–';
  const d = new Date(ts);
  return isNaN(d) ? ts : d.toLocaleString();
}

export function bytes(n) {
  if (n == null) return '–';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}

export function usePageTitle(title) {
  useEffect(() => {
    document.title = title + ' · Aqueducts';
  }, [title]);
}
