// A line diff of two pipeline versions (longest common subsequence), for the versions table.
import { html, api, useLoad, ErrorBox } from './lib.js';

const kMaxCells = 4e6;  // lines(a) x lines(b) beyond this is not diffed in the browser

// [{op: ' ' | '-' | '+', text}] turning `a` into `b`; null when the texts are too large.
export function diffLines(a, b) {
  const x = a.split('\n');
  const y = b.split('\n');
  if (x.length * y.length > kMaxCells) return null;
  const n = x.length;
  const m = y.length;
  // lcs[i][j]: length of the longest common subsequence of x[i..] and y[j..].
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const out = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) {
      out.push({ op: ' ', text: x[i++] });
      j++;
    } else if (j < m && (i === n || lcs[i][j + 1] >= lcs[i + 1][j])) {
      out.push({ op: '+', text: y[j++] });
    } else {
      out.push({ op: '-', text: x[i++] });
    }
  }
  return out;
}

// The changes from version `from` (default: the one before) to `version`, with a form that picks
// any two versions: #/pipelines/{id}?diff=N[&from=M] (M omitted when it is N-1). Changing one
// side keeps the other; M may be newer than N (the changes read backwards).
export function VersionDiff({ id, version, from, versions }) {
  const base = from > 0 ? from : version - 1;
  const { data, error } = useLoad(() => (base < 1 ? Promise.resolve(null) : Promise.all([
    api('GET', `/pipelines/${id}?version=${base}`), api('GET', `/pipelines/${id}?version=${version}`),
  ])), [id, version, base]);
  const numbers = (versions || []).map((v) => v.version);
  const pick = (f, t) => {
    location.hash = `#/pipelines/${id}?diff=${t}` + (f !== t - 1 ? `&from=${f}` : '');
  };
  const options = (selected) => numbers.map((n) => html`<option value=${String(n)} selected=${n === selected}>${n}</option>`);
  const form = numbers.length > 1 && html`<div class="row" id="diff-pick">
    <div><label for="diff-from">From version</label>
      <select id="diff-from" value=${String(base)} onChange=${(e) => pick(Number(e.target.value), version)}>${options(base)}</select></div>
    <div><label for="diff-to">To version</label>
      <select id="diff-to" value=${String(version)} onChange=${(e) => pick(base, Number(e.target.value))}>${options(version)}</select></div>
  </div>`;
  const title = html`<h2 id="diff-title">Changes from version ${base < 1 ? '–' : base} to ${version}</h2>`;
  if (error) return html`<section id="diff" aria-labelledby="diff-title">${title}${form}<${ErrorBox} error=${error} /></section>`;
  if (base < 1) return html`<section id="diff" aria-labelledby="diff-title">${title}${form}<p>Pick the version to compare with.</p></section>`;
  if (!data) return html`<p>Loading…</p>`;
  const lines = diffLines(data[0].text, data[1].text);
  if (!lines) return html`<section id="diff" aria-labelledby="diff-title">${title}${form}<p>The versions are too large to compare in the browser.</p></section>`;
  const added = lines.filter((l) => l.op === '+').length;
  const removed = lines.filter((l) => l.op === '-').length;
  return html`
    <section id="diff" aria-labelledby="diff-title">
      ${title}
      ${form}
      <p>${added} line${added === 1 ? '' : 's'} added, ${removed} removed${data[0].format !== data[1].format ? `; format ${data[0].format} → ${data[1].format}` : ''}.
        <a href=${'#/pipelines/' + id}>Close</a></p>
      <pre class="out diff" tabindex="0" aria-label=${`Changes from version ${base} to ${version}`}>${lines.map((l) => html`<div class=${l.op === '+' ? 'add' : l.op === '-' ? 'del' : ''}>${l.op} ${l.text}</div>`)}</pre>
    </section>`;
}
