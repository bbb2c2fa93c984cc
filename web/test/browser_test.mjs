// The web UI in a real browser (ctest webui.browser): a real aqueducts-server and a real
// aqueducts-executor registered with it on 127.0.0.1, Debian's chromium driven by puppeteer-core.
// Usage: node web/test/browser_test.mjs --server BIN --executor BIN --out DIR
// Exit 0: passed; 1: failed; 77: skipped (no chromium at /usr/bin/chromium).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const kChromium = '/usr/bin/chromium';
const kPassword = 'admin-password-1';

function arg(name) {
  const i = process.argv.indexOf(name);
  if (i < 0 || i + 1 >= process.argv.length) throw new Error(`missing ${name}`);
  return process.argv[i + 1];
}

if (!fs.existsSync(kChromium)) {
  console.log(`SKIP: ${kChromium} is not installed (tools/setup.sh installs Debian's chromium)`);
  process.exit(77);
}
const puppeteer = (await import('puppeteer-core')).default;
// Injected through the DevTools protocol, which the page's Content-Security-Policy does not
// restrict, so the UI is tested under its real policy.
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const serverBin = arg('--server');
const executorBin = arg('--executor');
const outDir = arg('--out');
fs.mkdirSync(outDir, { recursive: true });
for (const f of fs.readdirSync(outDir)) if (f.endsWith('.png')) fs.rmSync(path.join(outDir, f));
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'aq-webui-'));
const children = [];
let browser = null;
let failures = 0;

function cleanup() {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  fs.rmSync(work, { recursive: true, force: true });
}
process.on('exit', cleanup);

function check(ok, what) {
  if (ok) {
    console.log(`ok: ${what}`);
  } else {
    failures++;
    console.log(`FAIL: ${what}`);
  }
  return ok;
}

// Start a binary whose stdout is JSON log lines; resolves with the child once `ready(line)`.
function start(bin, args, env, ready, name) {
  const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const log = fs.createWriteStream(path.join(outDir, `${name}.log`));
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout.on('data', (d) => {
      buffer += d;
      for (const line of buffer.split('\n')) {
        try {
          const doc = JSON.parse(line);
          if (ready(doc)) resolve({ child, doc });
        } catch {
          // not a complete JSON line yet
        }
      }
    });
    child.on('exit', (code) => reject(new Error(`${name} exited with ${code} before it was ready`)));
  });
}

const dataDir = path.join(work, 'store');
const init = spawnSync(serverBin, ['init', '--data-dir', dataDir, '--admin', 'root'], {
  env: { ...process.env, AQ_ADMIN_PASSWORD: kPassword }, encoding: 'utf8',
});
if (init.status !== 0) throw new Error('init failed: ' + init.stderr);
const { doc: listening } = await start(serverBin,
  ['serve', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', '0', '--heartbeat-interval-ms', '1000'],
  {}, (d) => d.msg === 'listening', 'server');
const base = `http://127.0.0.1:${listening.fields.port}`;

async function call(method, p, token, body) {
  const headers = { Authorization: token.startsWith('Basic ') ? token : 'Bearer ' + token };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(base + '/api/v1' + p, { method, headers, body: body === undefined ? (method === 'GET' ? undefined : '') : JSON.stringify(body) });
  const json = res.status === 204 ? null : await res.json();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}
const admin = (await call('POST', '/tokens', 'Basic ' + Buffer.from('root:' + kPassword).toString('base64'))).token;
await call('POST', '/users', admin, { name: 'vera', password: 'viewer-password', role: 'viewer' });
const registration = (await call('POST', '/executors/registration-tokens', admin)).token;
start(executorBin, ['--server-url', base, '--executor-id', 'web-1', '--registration-token', registration,
  '--labels', 'zone=test', '--log-level', 'debug'], {}, () => false, 'executor').catch((e) => {
  console.log('executor: ' + e.message);
});

// The data: 1,000 readings of 3 cities; the pipeline aggregates them to 3 rows. per_city is read
// by two later stages, so it is materialised and its rows are counted (a stage read once is a
// view, streamed, with no count of its own).
const csv = ['city,temperature'];
for (let i = 0; i < 1000; i++) csv.push(`${['Oslo', 'Lima', 'Pune'][i % 3]},${(i % 40) - 5}`);
fs.writeFileSync(path.join(work, 'readings.csv'), csv.join('\n') + '\n');
const outCsv = path.join(work, 'out.csv');
const goodText = `version: v2
sources:
  - type: file
    name: readings
    format:
      type: csv
      options:
        has_header: true
    location: ${path.join(work, 'readings.csv')}
stages:
  - - name: per_city
      query: SELECT city, count(*) AS n, avg(temperature) AS t FROM readings GROUP BY city ORDER BY city
      show: 10
  - - name: busy
      query: SELECT city FROM per_city WHERE n > 300
  - - name: report
      query: SELECT p.city, p.n, p.t FROM per_city p JOIN busy USING (city) ORDER BY p.city
destination:
  type: file
  name: summary
  format:
    type: csv
    options:
      has_header: true
  location: \${out}
`;
// Line 6: a format the loader does not know.
const badText = goodText.replace('      type: csv\n      options:', '      type: xls\n      options:');

browser = await puppeteer.launch({
  executablePath: kChromium, headless: true, protocolTimeout: 60000,
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
});
const page = await browser.newPage();
await page.setViewport({ width: 1280, height: 900 });
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(e.message));
page.on('console', (m) => {
  // The browser reports every 4xx answer as a console error; the UI shows those in the page.
  if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) pageErrors.push(m.text());
});
page.on('dialog', (d) => d.accept());

let shot = 0;
async function screenshot(name) {
  await page.screenshot({ path: path.join(outDir, `${String(++shot).padStart(2, '0')}-${name}.png`), fullPage: true });
}
async function axe(name) {
  if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 3) }));
  });
  const serious = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(serious.length === 0, `axe-core: no serious or critical violation on ${name}` +
    (serious.length ? ': ' + JSON.stringify(serious) : ''));
  for (const v of result.filter((x) => !serious.includes(x))) console.log(`  axe ${v.impact}: ${v.id} (${v.help})`);
}
const text = (sel) => page.$eval(sel, (e) => e.textContent);
const waitText = (sel, re, timeout = 30000) =>
  page.waitForFunction((s, src) => {
    const e = document.querySelector(s);
    return e && new RegExp(src).test(e.textContent);
  }, { timeout }, sel, re.source);
async function go(hash) {
  await page.evaluate((h) => { location.hash = h; }, hash);
}
// Replaces a field's text by keyboard, as a user does (the page's state follows its input events).
async function fill(sel, value) {
  await page.focus(sel);
  await page.keyboard.down('Control');
  await page.keyboard.press('KeyA');
  await page.keyboard.up('Control');
  await page.keyboard.press('Backspace');
  await page.type(sel, value);
}
async function setEditorText(t) {
  await page.waitForSelector('#pipeline-editor[data-ready="true"]');
  await page.evaluate((x) => document.getElementById('pipeline-editor').aqEditor.setText(x), t);
}
async function signIn(user, password) {
  await page.waitForSelector('#user');
  await fill('#user', user);
  await fill('#password', password);
  await page.click('button[type=submit]');
}

try {
  // First load: every byte the page needs, gzipped, and the time until the form is usable.
  const loaded = [];
  const onResponse = (r) => loaded.push(r);
  page.on('response', onResponse);
  await page.goto(base + '/', { waitUntil: 'load' });
  await page.waitForSelector('#user');
  const interactive = () => page.evaluate(() => performance.getEntriesByName('aq-interactive')[0]?.startTime ?? -1);
  const interactiveMs = await interactive();
  await page.waitForNetworkIdle({ idleTime: 200 });
  page.off('response', onResponse);
  let gzipped = 0;
  for (const r of loaded) {
    if (r.url().startsWith(base)) gzipped += zlib.gzipSync(await r.buffer()).length;
  }
  console.log(`measure: first page (sign-in) ${loaded.length} files, ${(gzipped / 1024).toFixed(1)} KiB gzipped; rendered ${interactiveMs.toFixed(0)} ms after navigation start (a browser just started)`);
  check(gzipped < 300 * 1024, 'the first page is under 300 KB gzipped');
  await page.reload({ waitUntil: 'load' });
  await page.waitForSelector('#user');
  console.log(`measure: the same page loaded again in the running browser: rendered ${(await interactive()).toFixed(0)} ms after navigation start`);
  check(page.url().includes('#/signin') || (await page.$('#user')) !== null, 'an anonymous visitor is sent to sign in');
  await axe('sign in');
  await screenshot('signin');

  // A wrong password is refused with a message, not a browser dialog.
  await signIn('root', 'not-the-password');
  await waitText('.error', /Wrong user name or password/);
  check(true, 'a wrong password shows "Wrong user name or password"');

  await signIn('root', kPassword);
  await page.waitForSelector('#card-executors');
  check(/Dashboard/.test(await text('h1')), 'signed in as root, the dashboard opens');

  // The session is an HttpOnly, SameSite=Strict cookie: scripts of the page cannot read it, and
  // nothing secret is in localStorage. A POST that carries the cookie but not the CSRF token (what
  // a page of another origin could make the browser send) is refused.
  const sessionCookie = (await page.cookies(base + '/api/v1/me')).find((c) => c.name === 'aq_session');
  check(sessionCookie && sessionCookie.httpOnly && sessionCookie.sameSite === 'Strict' && /^aqt_/.test(sessionCookie.value),
    `the browser session is an HttpOnly, SameSite=Strict cookie (${JSON.stringify(sessionCookie && { ...sessionCookie, value: '...' })})`);
  const visible = await page.evaluate(() => ({ cookie: document.cookie, stored: JSON.stringify(localStorage) }));
  check(!/aq_session|aqt_/.test(visible.cookie) && !/aqt_/.test(visible.stored),
    `document.cookie and localStorage hold no session secret (${JSON.stringify(visible)})`);
  const forged = await page.evaluate(async () => {
    const r = await fetch('/api/v1/executors/registration-tokens', { method: 'POST', body: '', credentials: 'include' });
    return { status: r.status, body: await r.text() };
  });
  check(forged.status === 403 && /X-CSRF-Token/.test(forged.body), `a POST with the session cookie and without the CSRF token is refused (${forged.status} ${forged.body})`);
  const withCsrf = await page.evaluate(async () => {
    const csrf = JSON.parse(localStorage.getItem('aqueducts.session')).csrf;
    const r = await fetch('/api/v1/me', { method: 'GET' });
    return { status: r.status, csrf: /^[0-9a-f]{64}$/.test(csrf) };
  });
  check(withCsrf.status === 200 && withCsrf.csrf, 'a GET with the cookie alone is answered; the page holds a CSRF token');

  // Executors: web-1 comes online with its label.
  await go('#/executors');
  await page.waitForFunction(() => {
    const row = document.querySelector('tr[data-executor="web-1"]');
    return row && /idle/.test(row.textContent);
  }, { timeout: 30000 });
  check(/zone=test/.test(await text('tr[data-executor="web-1"]')), 'executors page: web-1 idle with label zone=test');
  await axe('executors');
  await screenshot('executors');

  await go('#/');
  await waitText('#card-executors', /1 \/ 1/);
  check(true, 'dashboard: 1 / 1 executors online');
  await axe('dashboard');
  await screenshot('dashboard');

  // Create a pipeline with a mistake: the server's error is shown at its line.
  await go('#/pipelines/new');
  await page.waitForSelector('#pipeline-editor[data-ready="true"] .cm-content');
  check(true, 'the pipeline editor (CodeMirror, loaded on demand) opens');
  const editorJs = Buffer.from(await (await fetch(base + '/ui/editor.js')).arrayBuffer());
  console.log(`measure: the editor chunk /ui/editor.js is ${(editorJs.length / 1024).toFixed(0)} KiB, ${(zlib.gzipSync(editorJs).length / 1024).toFixed(0)} KiB gzipped (loaded by the pipeline page only)`);

  // Completion from the schema: typing "destin" at the top level offers "destination".
  await setEditorText('version: v2\n');
  await page.evaluate(() => document.getElementById('pipeline-editor').aqEditor.focus());
  await page.keyboard.down('Control');
  await page.keyboard.press('End');
  await page.keyboard.up('Control');
  await page.keyboard.type('destin');
  await page.waitForFunction(() => /destination/.test(document.querySelector('.cm-tooltip-autocomplete')?.textContent || ''), { timeout: 10000 });
  check(true, 'the editor completes "destin" to "destination" from the schema');
  await screenshot('editor-completion');
  await page.keyboard.press('Escape');

  // Lint from the schema: an unknown top-level field is marked while typing.
  await setEditorText('version: v2\nsourcez: []\n');
  await page.waitForSelector('.cm-lintRange-error, .cm-lint-marker-error', { timeout: 10000 });
  check(true, 'the editor marks an unknown field ("sourcez") from the schema before saving');

  // Hover: a field's help from the schema.
  async function hoverText(word, nth = 0) {
    const point = await page.evaluate((w, k) => {
      const view = document.getElementById('pipeline-editor').aqEditor.view;
      const doc = view.state.doc.toString();
      let at = -1;
      for (let i = 0; i <= k; i++) at = doc.indexOf(w, at + 1);
      const c = view.coordsAtPos(at + 2);
      return { x: c.left + 1, y: (c.top + c.bottom) / 2 };
    }, word, nth);
    await page.mouse.move(point.x, point.y);
  }
  await setEditorText('version: v2\nsources:\n  - type: file\n    name: r\n    location: x.csv\n');
  await hoverText('location');
  await page.waitForFunction(() => /A URL/.test(document.querySelector('.cm-tooltip-hover')?.textContent || ''), { timeout: 10000 });
  check(true, 'hovering "location" in YAML shows the field\'s help from the schema: ' + (await text('.cm-tooltip-hover')).slice(0, 80));
  await page.mouse.move(5, 5);

  // TOML: completion of keys (the source's own, told by its type) and of values, and hover.
  await page.select('#pipeline-format', 'toml');
  await setEditorText('version = "v2"\n\n[[sources]]\ntype = "file"\nname = "r"\n');
  await page.evaluate(() => document.getElementById('pipeline-editor').aqEditor.focus());
  await page.keyboard.down('Control');
  await page.keyboard.press('End');
  await page.keyboard.up('Control');
  await page.keyboard.type('loc');
  await page.waitForFunction(() => /location/.test(document.querySelector('.cm-tooltip-autocomplete li[aria-selected]')?.textContent || ''), { timeout: 10000 });
  const keysOffered = await page.$$eval('.cm-tooltip-autocomplete .cm-completionLabel', (els) => els.map((e) => e.textContent));
  // A click picks the option at once (Enter is ignored for 75 ms after the list changes).
  await page.click('.cm-tooltip-autocomplete li[aria-selected]');
  await page.keyboard.type('"x.csv"\n[sources.format]\ntype = "c');
  await page.waitForFunction(() => /\bcsv\b/.test(document.querySelector('.cm-tooltip-autocomplete')?.textContent || ''), { timeout: 10000 });
  const tomlOffered = await page.$$eval('.cm-tooltip-autocomplete .cm-completionLabel', (els) => els.map((e) => e.textContent));
  await page.keyboard.press('Escape');
  const tomlText = await page.evaluate(() => document.getElementById('pipeline-editor').aqEditor.getText());
  check(/\nlocation = "x\.csv"\n/.test(tomlText) && JSON.stringify(keysOffered) === '["location"]',
    `TOML: "loc" in a file source offers and completes "location = " (${JSON.stringify(keysOffered)})`);
  check(tomlOffered.includes('csv') && !tomlOffered.includes('parquet'),
    `TOML: the type of a source's format offers the formats starting with c (${JSON.stringify(tomlOffered)})`);
  await screenshot('editor-toml-completion');
  await page.keyboard.type('sv"\n');
  await hoverText('location');
  await page.waitForFunction(() => /A URL/.test(document.querySelector('.cm-tooltip-hover')?.textContent || ''), { timeout: 10000 });
  await hoverText('type', 1);
  await page.waitForFunction(() => /csv/.test(document.querySelector('.cm-tooltip-hover')?.textContent || ''), { timeout: 10000 });
  check(true, 'TOML: hovering a field shows its help from the schema: ' + (await text('.cm-tooltip-hover')).slice(0, 80));
  await page.mouse.move(5, 5);
  await page.select('#pipeline-format', 'yaml');

  await page.type('#pipeline-name', 'city summary');
  await setEditorText(badText);
  await page.click('#save-button');
  await page.waitForSelector('#save-error');
  const saveError = await text('#save-error');
  check(/Line 6/.test(saveError) && /xls/.test(saveError), `the loader's error is shown at line 6: "${saveError}"`);
  const marked = await page.$$eval('.cm-aq-error-line', (els) => els.map((e) => e.textContent));
  check(marked.length === 1 && /type: xls/.test(marked[0]), `the editor marks line 6 (${JSON.stringify(marked)})`);
  await axe('pipeline editor with an error');
  await screenshot('editor-error');

  // Fix it and save: the pipeline page opens with its run form.
  await setEditorText(goodText);
  await page.click('#save-button');
  await page.waitForSelector('#run-button');
  const pipelineHash = await page.evaluate(() => location.hash);
  check(/^#\/pipelines\/\d+$/.test(pipelineHash), `the fixed pipeline is saved (${pipelineHash})`);
  check((await page.$('#param-out')) !== null, 'the run form asks for the parameter "out"');

  // Run it on web-1 and watch the stages reach 100 % with their row counts.
  await page.type('#param-out', outCsv);
  await page.select('#run-target', 'executor:web-1');
  await page.click('#run-button');
  await page.waitForFunction(() => /^#\/runs\/\d+$/.test(location.hash));
  const runHash = await page.evaluate(() => location.hash);
  await waitText('#run-status', /succeeded/, 60000);
  const stages = await page.$$eval('#stages tbody tr', (rows) => rows.map((r) => ({
    name: r.dataset.stage, done: r.dataset.done, pct: r.querySelector('.pct').textContent,
    rows: r.querySelector('.rows').dataset.rows, bar: r.querySelector('progress').value })));
  console.log('  stages: ' + JSON.stringify(stages));
  const perCity = stages.find((s) => s.name === 'per_city');
  check(perCity && perCity.pct === '100%' && perCity.bar === 100 && perCity.rows === '3', 'stage per_city reached 100% with 3 rows');
  check(/Oslo/.test(await text('#outputs')), 'the show output of per_city is on the page');
  const preview = await page.$$eval('#outputs .preview[data-stage="per_city"] tr', (rows) => rows.map((r) => [...r.children].map((c) => c.textContent)));
  check(JSON.stringify(preview.map((r) => r.slice(0, 2))) === JSON.stringify([['city', 'n'], ['Lima', '333'], ['Oslo', '334'], ['Pune', '333']]),
    `the show output of per_city is an HTML table with its header and 3 rows (${JSON.stringify(preview)})`);
  const dest = stages.find((s) => s.name === 'summary');
  check(dest && dest.pct === '100%' && dest.rows === '3', 'destination summary reached 100% with 3 rows');
  const written = fs.readFileSync(outCsv, 'utf8').trim().split('\n');
  check(written.length === 4 && written[0].startsWith('city'), `the executor wrote 3 rows and a header to ${outCsv}`);
  check(/100%/.test(await page.$eval('#run-progress', (e) => e.value + '%')), 'the run progress bar is at 100%');
  await axe('run detail');
  await screenshot('run-succeeded');

  // A reload replays the whole history from the server.
  await page.reload({ waitUntil: 'load' });
  await waitText('#run-status', /succeeded/);
  await page.waitForSelector('#stages tr[data-stage="per_city"]');
  check((await page.$eval('tr[data-stage="per_city"] .rows', (e) => e.dataset.rows)) === '3' &&
    /started on the executor/.test(await text('#run-log')), 'after a reload the run page shows the full replayed history');

  // Re-run: a new run of the same pipeline and parameters succeeds too.
  await page.click('#rerun-button');
  await page.waitForFunction((h) => /^#\/runs\/\d+$/.test(location.hash) && location.hash !== h, {}, runHash);
  await waitText('#run-status', /succeeded/, 60000);
  check(/re-run of/.test(await page.$eval('main', (e) => e.textContent)), 're-run: the new run succeeds and names the run it repeats');

  // A run that fails shows the executor's error, naming the stage.
  const broken = await call('POST', '/pipelines', admin, { name: 'broken', format: 'yaml',
    text: 'version: v2\nsources: []\nstages:\n  - - name: bad_stage\n      query: SELECT no_such_column FROM range(3)\n' });
  await go('#/pipelines/' + broken.id);
  await page.waitForSelector('#run-button');
  await page.click('#run-button');
  await page.waitForFunction(() => /^#\/runs\/\d+$/.test(location.hash));
  await waitText('#run-status', /failed/, 60000);
  await page.waitForSelector('#run-error');
  const runError = await text('#run-error');
  check(/bad_stage/.test(runError) && /no_such_column/.test(runError), `a failed run shows its error: "${runError.trim()}"`);
  await screenshot('run-failed');

  // A preview whose cells hold '|', a line break, unicode, NULL and 'NULL' is still a table with
  // the right cells; the plan (explain) stays text.
  const odd = await call('POST', '/pipelines', admin, { name: 'previews', format: 'yaml',
    text: 'version: v2\nsources: []\nstages:\n  - - name: odd\n      query: |\n' +
      "        SELECT * FROM (VALUES ('a|b', 'line1' || chr(10) || 'line2', 'Zürich ✓', NULL), ('c', 'z', '', 'NULL')) t(\"x|y\", m, u, n)\n" +
      '      show: 10\n      explain: true\n' });
  const oddRun = await call('POST', `/pipelines/${odd.id}/runs`, admin, { executor: 'web-1' });
  await go('#/runs/' + oddRun.id);
  await waitText('#run-status', /succeeded/, 60000);
  await page.waitForSelector('#outputs .preview[data-stage="odd"]');
  const oddCells = await page.$$eval('#outputs .preview[data-stage="odd"] tr', (rows) => rows.map((r) => [...r.children].map((c) => c.textContent)));
  check(JSON.stringify(oddCells) === JSON.stringify([['x|y', 'm', 'u', 'n'], ['a|b', 'line1\nline2', 'Zürich ✓', ''], ['c', 'z', '', 'NULL']]),
    `a preview with '|', a line break and unicode in its cells is parsed cell by cell (${JSON.stringify(oddCells)})`);
  check(await page.$$eval('#outputs > pre.out', (els) => els.some((e) => /physical_plan/.test(e.textContent))),
    'the explain plan of the stage is shown as text');
  await axe('run with previews');
  await screenshot('run-previews');

  // A second version, and the diff between the two.
  await call('PUT', `/pipelines/${pipelineHash.split('/').pop()}`, admin, { text: goodText.replace('show: 10', 'show: 5') });
  await go(pipelineHash + '?diff=2');
  await page.waitForSelector('#diff .add');
  const added = await page.$$eval('#diff .add', (els) => els.map((e) => e.textContent));
  const removed = await page.$$eval('#diff .del', (els) => els.map((e) => e.textContent));
  check(added.length === 1 && /\+ +show: 5/.test(added[0]) && removed.length === 1 && /- +show: 10/.test(removed[0]),
    `the diff of versions 1 and 2 shows the one changed line (${JSON.stringify([removed, added])})`);
  await axe('pipeline version diff');
  await screenshot('version-diff');
  // Any two versions: a third version, compared with the first through the form. Changing one
  // side of the form keeps the other.
  await call('PUT', `/pipelines/${pipelineHash.split('/').pop()}`, admin, { text: goodText.replace('show: 10', 'show: 7') });
  await page.reload({ waitUntil: 'load' });  // the page lists the versions it loaded
  await page.waitForFunction(() => document.querySelectorAll('#diff-to option').length === 3);
  await page.select('#diff-to', '3');
  await page.waitForFunction(() => /\?diff=3&from=1$/.test(location.hash));
  await waitText('#diff-title', /from version 1 to 3/);
  await page.waitForFunction(() => [...document.querySelectorAll('#diff .add')].some((e) => /show: 7/.test(e.textContent)));
  const added13 = await page.$$eval('#diff .add', (els) => els.map((e) => e.textContent));
  const removed13 = await page.$$eval('#diff .del', (els) => els.map((e) => e.textContent));
  check(added13.length === 1 && /\+ +show: 7/.test(added13[0]) && removed13.length === 1 && /- +show: 10/.test(removed13[0]),
    `the diff of versions 1 and 3, picked in the form, shows the one changed line (${JSON.stringify([removed13, added13])})`);
  await page.select('#diff-from', '2');
  await page.waitForFunction(() => /\?diff=3$/.test(location.hash));
  await waitText('#diff-title', /from version 2 to 3/);
  await page.waitForFunction(() => [...document.querySelectorAll('#diff .del')].some((e) => /show: 5/.test(e.textContent)));
  check((await page.$eval('#diff-from', (e) => e.value)) === '2' && (await page.$eval('#diff-to', (e) => e.value)) === '3',
    'picking version 2 as the base keeps version 3 and shows the diff from 2 to 3');
  await axe('pipeline diff of any two versions');

  // Pipelines list: the last run's status.
  await go('#/pipelines');
  await page.waitForSelector('#pipelines');
  check(/succeeded/.test(await text('#pipelines')), 'pipelines list shows the last run succeeded');
  await axe('pipelines');
  await screenshot('pipelines');

  // Schedules: a bad cron expression is refused with the server's message naming the field;
  // a good one in Europe/Berlin lists its next fire times in that zone and in UTC; pause and
  // resume; delete from the list.
  const pipelineId = pipelineHash.split('/').pop();
  await go('#/schedules');
  await page.waitForSelector('#new-schedule');
  await page.click('#new-schedule');
  await page.waitForSelector('#schedule-form');
  await page.waitForFunction((id) => !!document.querySelector(`#schedule-pipeline option[value="${id}"]`), {}, pipelineId);
  await page.select('#schedule-pipeline', pipelineId);
  await page.waitForSelector('#sparam-out');
  await fill('#schedule-cron', '61 2 * * *');
  await fill('#schedule-zone', 'Europe/Berlin');
  await page.type('#sparam-out', outCsv);
  await page.select('#schedule-target', 'label:zone=test');
  await page.click('#create-schedule');
  await waitText('#schedule-form .error', /cron/);
  check(/61 is out of range 0-59/.test(await text('#schedule-form .error')), 'a bad cron expression is refused with the server\'s message: ' + (await text('#schedule-form .error')));
  await axe('new schedule with an error');
  await screenshot('schedule-new-error');
  await fill('#schedule-cron', '30 2 * * *');
  await page.click('#create-schedule');
  await page.waitForFunction(() => /^#\/schedules\/\d+$/.test(location.hash));
  await page.waitForSelector('#next-fires tbody tr');
  const fires = await page.$$eval('#next-fires tbody tr', (rows) => rows.map((r) => [...r.children].map((c) => c.textContent)));
  // 02:30 in Berlin is 01:30 UTC in winter (+01:00) and 00:30 UTC in summer (+02:00).
  const firesOk = fires.length === 5 && fires.every(([l, u]) => {
    const m = /(\d\d:\d\d) \(\+0(\d):00\)/.exec(l);
    return m && m[1] === '02:30' && u.includes(`0${2 - Number(m[2])}:30 (UTC)`);
  });
  check(firesOk, `the new schedule lists its next 5 fire times at 02:30 Berlin time with their UTC times (${JSON.stringify(fires)})`);
  check(/label zone=test/.test(await text('#schedule-summary')) && /out=/.test(await text('#schedule-summary')),
    'the schedule page names its target label and parameters');
  await axe('schedule');
  await screenshot('schedule');
  await page.click('#main button.pause');
  await waitText('#schedule-state', /paused/);
  check((await page.$('#next-fires')) === null, 'a paused schedule has no next fire times');
  await page.click('#main button.resume');
  await waitText('#schedule-state', /active/);
  await page.waitForSelector('#next-fires tbody tr');
  check(true, 'the schedule is resumed and lists its next fire times again');
  const scheduleHash = await page.evaluate(() => location.hash);
  const spare = await call('POST', '/schedules', admin, { pipeline_id: Number(pipelineId), cron: '@daily', parameters: { out: outCsv } });
  await go('#/schedules');
  await page.waitForSelector(`tr[data-schedule="${spare.id}"]`);
  check(/02:30/.test(await text(`tr[data-schedule="${scheduleHash.split('/').pop()}"] .next-fire`)), 'the schedules list shows the next fire time');
  await axe('schedules');
  await screenshot('schedules');
  await page.click(`tr[data-schedule="${spare.id}"] button.delete`);
  await page.waitForFunction((id) => !document.querySelector(`tr[data-schedule="${id}"]`), { timeout: 10000 }, spare.id);
  const left = await call('GET', '/schedules', admin);
  check(left.schedules.length === 1 && left.schedules[0].id !== spare.id, 'a schedule deleted from the list is gone on the server');

  // Cancel a long run.
  const long = await call('POST', '/pipelines', admin, { name: 'long', format: 'yaml',
    text: 'version: v2\nsources: []\nstages:\n  - - name: forever\n      query: SELECT sum(range % 7) AS s FROM range(1000000000000)\n' });
  await go('#/pipelines/' + long.id);
  await page.waitForSelector('#run-button');
  await page.click('#run-button');
  await page.waitForFunction(() => /^#\/runs\/\d+$/.test(location.hash));
  await waitText('#run-status', /running/, 60000);
  await page.waitForSelector('tr[data-stage="forever"]');
  await screenshot('run-long');
  await page.click('#cancel-button');
  await waitText('#run-status', /cancelled/, 30000);
  check(true, 'a long run is cancelled from its page: ' + (await text('#run-status')).trim());
  await page.waitForSelector('#rerun-button');
  await screenshot('run-cancelled');

  // A fast stream: a real run of many tiny stages makes the executor send hundreds of events a
  // second. The run page, open from the start, keeps up: it applies every event the server
  // stored, draws them in far fewer frames (batched per animation frame), and shows the final
  // state soon after the run ends. Node reads the same stream to time the run's end and rate.
  const kFastStages = 300;
  const fast = await call('POST', '/pipelines', admin, { name: 'many events', format: 'yaml',
    text: 'version: v2\nsources: []\nstages:\n' + Array.from({ length: kFastStages }, (_, i) =>
      `  - - name: s${i}\n      query: SELECT ${i} AS i, repeat('x', 40) AS pad\n      show: 1\n`).join('') });
  // Tasks that block the page's main thread for 50 ms or more (the Long Tasks API).
  await page.evaluate(() => {
    window.aqLongTasks = [];
    new PerformanceObserver((list) => window.aqLongTasks.push(...list.getEntries().map((e) => e.duration))).observe({ type: 'longtask' });
  });
  const fastRun = await call('POST', `/pipelines/${fast.id}/runs`, admin, { executor: 'web-1' });
  await go('#/runs/' + fastRun.id);
  const streamed = (async () => {
    const res = await fetch(`${base}/api/v1/runs/${fastRun.id}/events`, { headers: { Authorization: 'Bearer ' + admin, Accept: 'text/event-stream' } });
    const decoder = new TextDecoder();
    let buffer = '';
    const arrivals = [];
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const name = /^event: (.*)$/m.exec(frame);
        if (!name) continue;
        arrivals.push(performance.now());
        if (name[1] === 'run_state' && /"state":"(succeeded|failed|cancelled|lost)"/.test(frame)) {
          return { count: arrivals.length, arrivals, endedAt: performance.now() };
        }
      }
    }
    throw new Error('the event stream ended before the run');
  })();
  const serverSide = await streamed;
  await page.waitForFunction((n) => /succeeded/.test(document.querySelector('#run-status')?.textContent || '') &&
    document.querySelectorAll('#stages tbody tr[data-done="true"]').length === n, { timeout: 60000 }, kFastStages);
  const pageDoneAt = performance.now();
  const counts = await page.$eval('#run-title', (e) => ({ events: Number(e.dataset.events), frames: Number(e.dataset.frames) }));
  const longTasks = await page.evaluate(() => window.aqLongTasks);
  const longest = Math.max(0, ...longTasks);
  // The busiest second of the stream, as it reached node.
  let peak = 0;
  for (let i = 0, j = 0; i < serverSide.arrivals.length; i++) {
    while (serverSide.arrivals[i] - serverSide.arrivals[j] > 1000) j++;
    peak = Math.max(peak, i - j + 1);
  }
  const lagMs = pageDoneAt - serverSide.endedAt;
  const runSeconds = (serverSide.arrivals.at(-1) - serverSide.arrivals[0]) / 1000;
  console.log(`measure: a run of ${kFastStages} stages sent ${serverSide.count} events in ${runSeconds.toFixed(1)} s ` +
    `(${(serverSide.count / runSeconds).toFixed(0)} a second on average, ${peak} in the busiest second); the page applied ` +
    `${counts.events} in ${counts.frames} frames and showed the final state ${lagMs.toFixed(0)} ms after the stream's last event reached node; ` +
    `${longTasks.length} tasks of 50 ms or more blocked the page, the longest ${longest.toFixed(0)} ms`);
  check(peak >= 100, `the stream reached at least 100 events a second (${peak} in the busiest second)`);
  check(counts.events === serverSide.count, `the run page applied every event of the run (${counts.events} of ${serverSide.count})`);
  check(counts.frames < counts.events / 2, `the page drew them batched per animation frame (${counts.frames} frames for ${counts.events} events)`);
  check(lagMs < 5000, `the page showed the final state within 5 s of the run's end (${lagMs.toFixed(0)} ms)`);
  check(longest < 1000, `no task blocked the page for a second or more while it followed the stream (longest ${longest.toFixed(0)} ms)`);
  const lastRows = await page.$$eval('#stages tbody tr', (rows) => rows.map((r) => [r.dataset.stage, r.querySelector('.pct').textContent]));
  check(lastRows.length === kFastStages && lastRows.every(([, pct]) => pct === '100%') && lastRows.at(-1)[0] === `s${kFastStages - 1}`,
    `every one of the ${kFastStages} stages is shown at 100 %`);
  check((await page.$$('#outputs .preview')).length === kFastStages, `the ${kFastStages} show outputs are on the page`);
  await screenshot('run-many-events');

  // The runs list filtered by pipeline shows only that pipeline's runs.
  await go('#/runs');
  await page.waitForSelector('#runs tbody tr');
  await page.select('#pipeline-filter', String(long.id));
  await page.waitForFunction(() => /pipeline=/.test(location.hash));
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('#runs tbody tr')];
    return rows.length > 0 && rows.every((r) => /\blong\b/.test(r.children[1].textContent));
  }, { timeout: 10000 });
  check((await page.$$('#runs tbody tr')).length === 1, 'the runs list filtered by pipeline shows only its run');
  await axe('runs');
  await screenshot('runs-filtered');

  // Users and API tokens (admins): create a user (a taken name first), create a token for it
  // (the secret shown once works), revoke it (the secret is refused at once).
  check((await page.$('header nav a[href="#/users"]')) !== null && (await page.$('header nav a[href="#/tokens"]')) !== null,
    'an admin sees Users and API tokens in the navigation');
  await page.click('header nav a[href="#/users"]');
  await page.waitForSelector('#users tr[data-user="vera"]');
  await page.type('#new-user-name', 'vera');
  await page.type('#new-user-password', 'olga-password');
  await page.click('#create-user');
  await waitText('#user-form .error', /./);
  check(/vera|taken|exists/i.test(await text('#user-form .error')), 'a taken user name is refused with the server\'s message: ' + (await text('#user-form .error')));
  await fill('#new-user-name', 'olga');
  await page.select('#new-user-role', 'operator');
  await page.click('#create-user');
  await page.waitForSelector('#users tr[data-user="olga"]');
  check((await text('#users tr[data-user="olga"] .role')) === 'operator' && /olga created/.test(await text('#user-status')),
    'a new user olga with role operator is listed');
  await axe('users');
  await screenshot('users');
  await page.click('#users tr[data-user="olga"] td a');
  await page.waitForSelector('#token-form');
  await page.waitForFunction(() => document.querySelector('#token-user').value !== '');
  await page.type('#token-name', 'nightly');
  await page.select('#token-role', 'viewer');
  await page.click('#create-token');
  await page.waitForSelector('#new-token-secret');
  const secret = (await text('#new-token-secret')).trim();
  const asOlga = await fetch(base + '/api/v1/me', { headers: { Authorization: 'Bearer ' + secret } });
  const olgaMe = asOlga.ok ? await asOlga.json() : {};
  check(/^aqt_[0-9a-f]{64}$/.test(secret) && olgaMe.user === 'olga' && olgaMe.role === 'viewer' && olgaMe.token_name === 'nightly',
    `the new token's secret is shown once and works (${JSON.stringify(olgaMe)})`);
  await page.waitForFunction(() => [...document.querySelectorAll('#tokens tbody tr')].some((r) => /nightly/.test(r.textContent)));
  check(!/aqt_/.test(await text('#tokens')), 'the tokens list shows no secret');
  await axe('API tokens with a new secret');
  await screenshot('tokens');
  await go('#/tokens');
  await page.waitForFunction(() => /this browser/.test(document.querySelector('#tokens')?.textContent || '') &&
    /nightly/.test(document.querySelector('#tokens')?.textContent || ''));
  check(true, 'all tokens are listed, the browser\'s own marked "this browser"');
  const nightly = await page.$$eval('#tokens tbody tr', (rows) => rows.find((r) => /nightly/.test(r.textContent)).dataset.token);
  await page.click(`#tokens tr[data-token="${nightly}"] button.revoke`);
  await page.waitForFunction((id) => !document.querySelector(`#tokens tr[data-token="${id}"]`), { timeout: 10000 }, nightly);
  const revoked = await fetch(base + '/api/v1/me', { headers: { Authorization: 'Bearer ' + secret } });
  check(revoked.status === 401, `a revoked token is refused at once (${revoked.status})`);

  // A user's page (admins): change olga's role and password, refuse to demote the last admin,
  // delete olga (her tokens stop working at once).
  const userIds = Object.fromEntries((await call('GET', '/users', admin)).users.map((u) => [u.name, u.id]));
  const olgaToken = (await call('POST', `/users/${userIds.olga}/tokens`, admin, { name: 'kept' })).token;
  await go('#/users');
  await page.waitForSelector('#users tr[data-user="olga"] th a');
  await page.click('#users tr[data-user="olga"] th a');
  await page.waitForSelector('#role-form');
  check(page.url().endsWith(`#/users/${userIds.olga}`), `a user's name opens their page (${page.url()})`);
  await page.select('#user-role', 'viewer');
  await page.click('#save-role');
  await waitText('#user-status', /olga now has role viewer/);
  await waitText('#user-summary .role', /^viewer$/);
  const olgaMeAfter = await (await fetch(base + '/api/v1/me', { headers: { Authorization: 'Bearer ' + olgaToken } })).json();
  check((await call('GET', '/users', admin)).users.find((u) => u.name === 'olga').role === 'viewer' && olgaMeAfter.role === 'viewer',
    `olga's role is changed to viewer from her page, her operator token lowered with it (${JSON.stringify(olgaMeAfter)})`);
  await page.type('#user-password', 'olga-new-password');
  await page.click('#save-password');
  await waitText('#user-status', /password of olga is changed/);
  const signInAs = (pw) => fetch(base + '/api/v1/tokens', { method: 'POST', body: '',
    headers: { Authorization: 'Basic ' + Buffer.from('olga:' + pw).toString('base64') } });
  const [oldPw, newPw] = [(await signInAs('olga-password')).status, (await signInAs('olga-new-password')).status];
  check(oldPw === 401 && newPw === 201, `the new password works and the old one is refused (${oldPw}, ${newPw})`);
  await axe('user');
  await screenshot('user');
  await go(`#/users/${userIds.root}`);
  await waitText('h1', /User root/);
  await page.select('#user-role', 'operator');
  await page.click('#save-role');
  await waitText('#role-form .error', /last admin/);
  check((await call('GET', '/users', admin)).users.find((u) => u.name === 'root').role === 'admin',
    'demoting the last admin is refused with the server\'s message: ' + (await text('#role-form .error')));
  await go(`#/users/${userIds.olga}`);
  await waitText('h1', /User olga/);
  await page.click('#delete-user');
  await page.waitForFunction(() => /^#\/users\?deleted=olga$/.test(location.hash));
  await waitText('#users-status', /olga deleted/);
  await page.waitForSelector('#users tr[data-user="root"]');
  const olgaGone = (await page.$('#users tr[data-user="olga"]')) === null;
  const olgaTokenStatus = (await fetch(base + '/api/v1/me', { headers: { Authorization: 'Bearer ' + olgaToken } })).status;
  check(olgaGone && olgaTokenStatus === 401 && (await signInAs('olga-new-password')).status === 401,
    `a deleted user leaves the list, her token is refused and her password no longer signs in (${olgaTokenStatus})`);

  // Signing out deletes the browser's token on the server.
  const oldToken = (await page.cookies(base + '/api/v1/me')).find((c) => c.name === 'aq_session').value;
  await page.click('header .who button');
  await page.waitForSelector('#user');
  const stale = await fetch(base + '/api/v1/me', { headers: { Cookie: 'aq_session=' + oldToken } });
  const leftCookies = (await page.cookies(base + '/api/v1/me')).filter((c) => c.name === 'aq_session');
  check(stale.status === 401 && leftCookies.length === 0 && (await page.evaluate(() => localStorage.getItem('aqueducts.session'))) === null,
    `after Sign out the browser forgets the session (cookie cleared) and the server refuses it (${stale.status})`);

  // A viewer sees no Run, Save, Cancel or Re-run, and cannot edit.
  await signIn('vera', 'viewer-password');
  await page.waitForSelector('#card-executors');
  await go(pipelineHash);
  await page.waitForSelector('#pipeline-editor[data-ready="true"] .cm-content');
  await page.waitForSelector('#versions');
  check((await page.$('#run-button')) === null && (await page.$('#run-form')) === null, 'a viewer sees no Run button');
  check((await page.$('#save-button')) === null && (await page.$eval('.cm-content', (e) => e.getAttribute('contenteditable'))) === 'false',
    'a viewer cannot save or edit a pipeline');
  await axe('pipeline as viewer');
  await screenshot('viewer-pipeline');
  check((await page.$('header nav a[href="#/users"]')) === null && (await page.$('header nav a[href="#/tokens"]')) === null,
    'a viewer sees no Users or API tokens in the navigation');
  await go('#/users');
  await waitText('#main .error', /Only admins/);
  check((await page.$('#user-form')) === null, 'a viewer opening #/users gets no form');
  await go(`#/users/${userIds.root}`);
  await waitText('#main .error', /Only admins/);
  check((await page.$('#role-form')) === null && (await page.$('#delete-user')) === null, 'a viewer opening a user\'s page gets no form');
  await go('#/schedules');
  await page.waitForSelector('#schedules tbody tr');
  check((await page.$('#new-schedule')) === null && (await page.$('#schedules button')) === null,
    'a viewer sees the schedules but no New schedule, Pause, Resume or Delete');
  await go(scheduleHash);
  await page.waitForSelector('#next-fires');
  check((await page.$('#main button')) === null, 'a viewer sees no buttons on a schedule\'s page');
  await axe('schedule as viewer');
  await go(runHash);
  await waitText('#run-status', /succeeded/);
  check((await page.$('#rerun-button')) === null && (await page.$('#cancel-button')) === null, 'a viewer sees no Cancel or Re-run');

  // The executor dies mid-run: the viewer sees the run become lost with its reason, and the
  // executor offline.
  const doomed = await call('POST', `/pipelines/${long.id}/runs`, admin, { executor: 'web-1' });
  await go('#/runs/' + doomed.id);
  await waitText('#run-status', /running/, 60000);
  children.find((c) => c.spawnargs.includes('web-1')).kill('SIGKILL');
  await waitText('#run-status', /lost/, 35000);
  const lostText = await text('#run-status');
  check(/missed 3 heartbeats/.test(lostText) && /not re-run automatically/.test(lostText), `a run whose executor was killed is lost with its reason: "${lostText.trim()}"`);
  await screenshot('run-lost');
  await go('#/executors');
  await page.waitForFunction(() => /offline/.test(document.querySelector('tr[data-executor="web-1"]')?.textContent || ''), { timeout: 10000 });
  check(true, 'the executors page shows web-1 offline');
  await screenshot('executor-offline');
  await go(runHash);
  await waitText('#run-status', /succeeded/);

  // Dark mode follows the system.
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }]);
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  check(bg === 'rgb(13, 17, 23)', `dark scheme follows the system (body background ${bg})`);
  await axe('run detail, dark');
  await screenshot('run-dark');

  check(pageErrors.length === 0, 'no script error in the page' + (pageErrors.length ? ': ' + pageErrors.join(' | ') : ''));
} catch (e) {
  failures++;
  console.log('FAIL: ' + (e.stack || e));
  try {
    await screenshot('failure');
    console.log('  page: ' + (await page.evaluate(() => location.href + ' ' + document.querySelector('main')?.textContent)));
  } catch {
    // the browser is gone
  }
  if (pageErrors.length) console.log('  page errors: ' + pageErrors.join(' | '));
} finally {
  await browser.close();
}
console.log(failures ? `${failures} check(s) failed; screenshots and logs in ${outDir}` : `all checks passed; screenshots in ${outDir}`);
process.exit(failures ? 1 : 0);
