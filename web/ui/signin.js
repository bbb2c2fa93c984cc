import { html, signIn, takeNotice, useState, usePageTitle, ErrorBox } from './lib.js';

export function SignIn({ next }) {
  usePageTitle('Sign in');
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState(null);
  const [notice] = useState(takeNotice);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(user, password);
      location.hash = '#' + (next && next !== '/signin' ? next : '/');
    } catch (err) {
      setError(err.status === 401 ? new Error('Wrong user name or password') : err);
    } finally {
      setBusy(false);
    }
  };
  return html`
    <form class="signin" onSubmit=${submit}>
      <h1>Sign in to Aqueducts</h1>
      ${notice && html`<div class="error" role="alert">${notice}</div>`}
      <label for="user">User name</label>
      <input id="user" name="username" autocomplete="username" required value=${user} onInput=${(e) => setUser(e.target.value)} />
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required value=${password} onInput=${(e) => setPassword(e.target.value)} />
      <${ErrorBox} error=${error} />
      <p><button class="primary" type="submit" disabled=${busy}>Sign in</button></p>
    </form>`;
}
