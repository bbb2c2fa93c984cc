// A `show` preview's text as table cells. The executor renders previews as ASCII box tables:
//   +------+-----+        a rule gives each column's width in characters (code points);
//   | city | n   |        each line is "|" then, per column, " " + the cell padded to its
//   +------+-----+        width + " |"; a cell with line breaks takes several lines, the
//   | Lima | 333 |        other cells of its row are blank there; NULL and '' are both blank.
//   +------+-----+
// Cells are cut at the rule's column positions, so a '|' inside a value is kept. Rows are
// grouped exactly: when the number of data lines equals `rowsShown` (the count the executor
// sends with a preview), one line is one row; otherwise a line whose first cell is not blank
// starts a row, accepted only when that gives `rowsShown` rows. Anything else returns null and
// the caller shows the text as it is.

function cut(line, widths) {
  const cps = [...line];
  if (cps[0] !== '|') return null;
  const cells = [];
  let pos = 1;
  for (const w of widths) {
    if (cps[pos] !== ' ' || cps[pos + w + 1] !== ' ' || cps[pos + w + 2] !== '|') return null;
    cells.push(cps.slice(pos + 1, pos + 1 + w).join('').replace(/ +$/, ''));
    pos += w + 3;
  }
  return pos === cps.length ? cells : null;
}

// {header: [names], rows: [[cells]]}, or null when `text` is not a box table whose rows can be
// told apart for certain.
export function parseBoxTable(text, rowsShown) {
  const lines = (text || '').replace(/\n+$/, '').split('\n');
  const rule = lines[0];
  if (!/^\+(-+\+)+$/.test(rule || '')) return null;
  const widths = rule.slice(1, -1).split('+').map((d) => d.length - 2);
  if (widths.some((w) => w < 0)) return null;
  const rules = [];
  lines.forEach((l, i) => {
    if (l === rule) rules.push(i);
  });
  // rule, header lines, rule, [data lines, rule]
  if (rules.length < 2 || rules[0] !== 0 || rules.length > 3) return null;
  if (rules[rules.length - 1] !== lines.length - 1) return null;
  const part = (from, to) => {
    const out = [];
    for (let i = from; i < to; i++) {
      const c = cut(lines[i], widths);
      if (!c) return null;
      out.push(c);
    }
    return out;
  };
  const headerLines = part(1, rules[1]);
  const dataLines = rules.length === 3 ? part(rules[1] + 1, rules[2]) : [];
  if (!headerLines || !dataLines || headerLines.length === 0) return null;
  const join = (group) => widths.map((_, c) => group.map((l) => l[c]).join('\n').replace(/\n+$/, ''));
  const header = join(headerLines);
  if (rowsShown == null || rowsShown < 0) return null;
  if (dataLines.length === rowsShown) return { header, rows: dataLines.map((l) => join([l])) };
  const groups = [];
  for (const l of dataLines) {
    if (l[0] !== '' || groups.length === 0) groups.push([l]);
    else groups[groups.length - 1].push(l);
  }
  return groups.length === rowsShown ? { header, rows: groups.map(join) } : null;
}
