// The web UI's shell: header, navigation and the hash router (each page has its own URL).
import { html, render, session, signOut, useRoute, can } from './lib.js';
import { SignIn } from './signin.js';
import { Dashboard } from './dashboard.js';
import { Pipelines } from './pipelines.js';
import { PipelinePage } from './pipeline.js';
import { Runs } from './runs.js';
import { RunPage } from './run.js';
import { Executors } from './executors.js';
import { Schedules, SchedulePage, NewSchedule } from './schedules.js';
import { Users, UserPage, Tokens } from './accounts.js';

const kNav = [
  ['/', 'Dashboard'],
  ['/pipelines', 'Pipelines'],
  ['/runs', 'Runs'],
  ['/schedules', 'Schedules'],
  ['/executors', 'Executors'],
  ['/users', 'Users', 'admin'],
  ['/tokens', 'API tokens', 'admin'],
];

function Page({ route }) {
  const [first, second] = route.parts;
  if (first === 'pipelines' && second) return html`<${PipelinePage} key=${second} id=${second} query=${route.query} />`;
  if (first === 'pipelines') return html`<${Pipelines} />`;
  if (first === 'runs' && second) return html`<${RunPage} key=${second} id=${second} />`;
  if (first === 'runs') return html`<${Runs} query=${route.query} />`;
  if (first === 'executors') return html`<${Executors} />`;
  if (first === 'schedules' && second === 'new') return html`<${NewSchedule} query=${route.query} />`;
  if (first === 'schedules' && second) return html`<${SchedulePage} key=${second} id=${second} />`;
  if (first === 'schedules') return html`<${Schedules} />`;
  if (first === 'users' && second) return html`<${UserPage} key=${second} id=${second} />`;
  if (first === 'users') return html`<${Users} key=${route.query.toString()} query=${route.query} />`;
  if (first === 'tokens') return html`<${Tokens} key=${route.query.toString()} query=${route.query} />`;
  if (!first) return html`<${Dashboard} />`;
  return html`<h1>Not found</h1><p>No page at <code>${route.path}</code>. <a href="#/">Dashboard</a></p>`;
}

function App() {
  const route = useRoute();
  const s = session();
  if (route.parts[0] === 'signin' || !s) {
    return html`<main id="main"><${SignIn} next=${route.query.get('next') || (route.parts[0] === 'signin' ? '/' : route.path)} /></main>`;
  }
  const section = '/' + (route.parts[0] || '');
  return html`
    <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('main').focus(); }}>Skip to content</a>
    <header class="top">
      <a class="brand" href="#/">Aqueducts</a>
      <nav aria-label="Main">
        <ul>
          ${kNav.filter(([, , role]) => !role || can(role)).map(([path, label]) => html`<li><a href=${'#' + path} aria-current=${section === path ? 'page' : undefined}>${label}</a></li>`)}
        </ul>
      </nav>
      <div class="who">
        <span>${s.user} (${s.role})</span>
        <button type="button" onClick=${signOut}>Sign out</button>
      </div>
    </header>
    <main id="main" tabindex="-1"><${Page} route=${route} /></main>`;
}

const root = document.getElementById('app');
root.textContent = '';  // the static "Loading" line
render(html`<${App} />`, root);
// The first page is rendered and its handlers attached (the browser test reads this mark).
performance.mark('aq-interactive');
