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

export function VersionDiff({ id, version }) {
  const { data, error } = useLoad(() => Promise.all([
    api('GET', `/pipelines/${id}?version=${version - 1}`), api('GET', `/pipelines/${id}?version=${version}`),
  ]), [id, version]);
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!data) return html`<p>Loading…</p>`;
  const lines = diffLines(data[0].text, data[1].text);
  if (!lines) return html`<p>The versions are too large to compare in the browser.</p>`;
  const added = lines.filter((l) => l.op === '+').length;
  const removed = lines.filter((l) => l.op === '-').length;
  return html`
    <section id="diff" aria-labelledby="diff-title">
      <h2 id="diff-title">Changes from version ${version - 1} to ${version}</h2>
      <p>${added} line${added === 1 ? '' : 's'} added, ${removed} removed${data[0].format !== data[1].format ? `; format ${data[0].format} → ${data[1].format}` : ''}.
        <a href=${'#/pipelines/' + id}>Close</a></p>
      <pre class="out diff" tabindex="0" aria-label=${`Changes from version ${version - 1} to ${version}`}>${lines.map((l) => html`<div class=${l.op === '+' ? 'add' : l.op === '-' ? 'del' : ''}>${l.op} ${l.text}</div>`)}</pre>
    </section>`;
}
