/**
 * The overview's charts as HTML: SVG bar charts drawn here (no charting library: see
 * docs/overview.md for the measurements behind that choice), each with a table alternative.
 * No inline styles or scripts, so the same markup works under the webview's strict CSP and in a
 * self-contained report. Colours are VS Code's theme variables (with fallbacks for the report).
 * Every bar and table row carries `data-sel`, the JSON of the Selection it stands for.
 * Runs in the webview and in Node: no imports of either.
 */
import type { Bin, DuplicateGroups, Histogram, OverviewFigures, Selection } from './figures';

export const OVERVIEW_STRINGS = {
  title: 'Dataset overview',
  summary: '{0} records ({1} dialogues, {2} preference pairs) in {3} lines; {4} not records, {5} blank',
  formats: 'Records by format',
  turns: 'Turns per record',
  tokens: 'Tokens per record ({0})',
  roleTokens: 'Tokens per record, {0} turns ({1})',
  problems: 'Problems by rule (records)',
  noProblems: 'No problems found by the per-record rules.',
  exact: 'Exact duplicates',
  userQuestions: 'Near-duplicate user questions (similarity ≥ {0})',
  dialogues: 'Near-duplicate dialogues (similarity ≥ {0})',
  duplicateSummary: '{0} clusters, {1} records, {2} beyond the first of each',
  noDuplicates: 'None.',
  cluster: 'Cluster {0}: {1} records from line {2}',
  paper: "The Parrot paper's measures",
  sessions: 'Sessions',
  turnsPerSession: 'Turns (user queries) per session',
  contextDependent: 'Context-dependent queries per session (offline detector)',
  selfRouge: 'Self-ROUGE (sample of {0} queries; lower = more diverse)',
  stats: 'p50 {0} · p90 {1} · p99 {2} · max {3} · mean {4}',
  table: 'Table',
  value: 'Value',
  records: 'Records',
  recordsOf: '{0}: {1} records',
  clickHint: 'Select a bar or a row to show those records in the dialogue editor.',
  unsaved: 'The overview shows the file as saved on disk; unsaved edits are not in it.',
};

export type OverviewStrings = typeof OVERVIEW_STRINGS;

export function format(s: string, ...args: (string | number)[]): string {
  return s.replace(/\{(\d+)\}/g, (_, i: string) => String(args[Number(i)] ?? ''));
}

export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const num = (n: number): string => n.toLocaleString('en-US');

function binLabel(b: Bin, bins: readonly Bin[], i: number): string {
  if (b.hi - b.lo === 1) return num(b.lo);
  const width = bins[0] ? bins[0].hi - bins[0].lo : 1;
  if (i === bins.length - 1 && b.hi - b.lo !== width) return `≥ ${num(b.lo)}`;
  return `${num(b.lo)}–${num(b.hi - 1)}`;
}

interface Bar {
  label: string;
  count: number;
  sel: Selection;
}

function sel(s: Selection): string {
  return escapeHtml(JSON.stringify(s));
}

let ids = 0;

function table(bars: readonly Bar[], s: OverviewStrings, valueHeader: string): string {
  const rows = bars
    .map(
      (b) =>
        `<tr><th scope="row">${escapeHtml(b.label)}</th><td><button type="button" class="pick" data-sel="${sel(b.sel)}" aria-label="${escapeHtml(format(s.recordsOf, b.label, num(b.count)))}">${num(b.count)}</button></td></tr>`,
    )
    .join('');
  return `<details class="alt"><summary>${escapeHtml(s.table)}</summary><table><thead><tr><th scope="col">${escapeHtml(valueHeader)}</th><th scope="col">${escapeHtml(s.records)}</th></tr></thead><tbody>${rows}</tbody></table></details>`;
}

/** Horizontal bars: one row per category, its label on the left. */
export function barChart(
  title: string,
  bars: readonly Bar[],
  s: OverviewStrings,
  valueHeader = s.value,
): string {
  const id = `c${++ids}`;
  const rowH = 22;
  const labelW = 230;
  const barW = 360;
  const W = labelW + barW + 80;
  const H = bars.length * rowH + 4;
  const max = Math.max(1, ...bars.map((b) => b.count));
  const rects = bars
    .map((b, i) => {
      const y = i * rowH + 2;
      const w = Math.max(b.count > 0 ? 2 : 0, Math.round((b.count / max) * barW));
      const aria = escapeHtml(format(s.recordsOf, b.label, num(b.count)));
      return (
        `<g class="bar" role="button" tabindex="0" data-sel="${sel(b.sel)}" aria-label="${aria}"><title>${aria}</title>` +
        `<rect class="hit" x="0" y="${y}" width="${W}" height="${rowH - 2}"></rect>` +
        `<text class="label" x="${labelW - 8}" y="${y + rowH / 2 + 2}" text-anchor="end">${escapeHtml(truncate(b.label, 34))}</text>` +
        `<rect class="fill" x="${labelW}" y="${y + 2}" width="${w}" height="${rowH - 6}"></rect>` +
        `<text class="count" x="${labelW + w + 6}" y="${y + rowH / 2 + 2}">${num(b.count)}</text></g>`
      );
    })
    .join('');
  return (
    `<section class="chart" aria-labelledby="${id}"><h2 id="${id}">${escapeHtml(title)}</h2>` +
    `<svg class="bars" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="group" aria-labelledby="${id}">${rects}</svg>` +
    table(bars, s, valueHeader) +
    `</section>`
  );
}

function truncate(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

/** Vertical columns of a histogram, with the p50 / p90 / p99 marked. */
export function histogramChart(
  title: string,
  h: Histogram,
  selFor: (bin: number) => Selection,
  s: OverviewStrings,
): string {
  const id = `c${++ids}`;
  const colW = Math.max(14, Math.min(36, Math.floor(640 / h.bins.length)));
  const plotH = 150;
  const left = 8;
  const W = left + h.bins.length * colW + 8;
  const H = plotH + 58;
  const max = Math.max(1, ...h.bins.map((b) => b.count));
  const bars: Bar[] = h.bins.map((b, i) => ({
    label: binLabel(b, h.bins, i),
    count: b.count,
    sel: selFor(i),
  }));
  const cols = h.bins
    .map((b, i) => {
      const x = left + i * colW;
      const bh = b.count > 0 ? Math.max(2, Math.round((b.count / max) * plotH)) : 0;
      const aria = escapeHtml(format(s.recordsOf, bars[i].label, num(b.count)));
      const showLabel = i % Math.ceil(h.bins.length / 10) === 0 || i === h.bins.length - 1;
      return (
        `<g class="bar" role="button" tabindex="0" data-sel="${sel(bars[i].sel)}" aria-label="${aria}"><title>${aria}</title>` +
        `<rect class="hit" x="${x}" y="0" width="${colW}" height="${plotH + 4}"></rect>` +
        `<rect class="fill" x="${x + 1}" y="${plotH - bh}" width="${colW - 2}" height="${bh}"></rect>` +
        (showLabel
          ? `<text class="tick" x="${x + colW / 2}" y="${plotH + 16}" text-anchor="middle">${escapeHtml(truncate(bars[i].label, 12))}</text>`
          : '') +
        `</g>`
      );
    })
    .join('');
  const marks = (
    [
      ['p50', h.p50],
      ['p90', h.p90],
      ['p99', h.p99],
    ] as const
  )
    .map(([name, v], k) => {
      const i = h.bins.findIndex((b) => v >= b.lo && v < b.hi);
      if (i < 0) return '';
      const b = h.bins[i];
      const x = left + i * colW + ((v - b.lo + 0.5) / (b.hi - b.lo)) * colW;
      return `<line class="mark" x1="${x}" x2="${x}" y1="0" y2="${plotH}"></line><text class="mark-label" x="${x + 2}" y="${plotH + 28 + k * 11}">${name}</text>`;
    })
    .join('');
  const stats = format(s.stats, num(h.p50), num(h.p90), num(h.p99), num(h.max), num(h.mean));
  return (
    `<section class="chart" aria-labelledby="${id}"><h2 id="${id}">${escapeHtml(title)}</h2>` +
    `<p class="stats">${escapeHtml(stats)}</p>` +
    `<svg class="histogram" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="group" aria-labelledby="${id}">` +
    `<line class="axis" x1="${left}" x2="${W - 8}" y1="${plotH}" y2="${plotH}"></line>${cols}${marks}</svg>` +
    table(bars, s, s.value) +
    `</section>`
  );
}

function duplicates(
  title: string,
  g: DuplicateGroups,
  chart: 'exact' | 'userQuestions' | 'dialogues',
  s: OverviewStrings,
): string {
  const summary = format(s.duplicateSummary, num(g.clusters), num(g.records), num(g.redundant));
  if (g.clusters === 0) {
    const id = `c${++ids}`;
    return `<section class="chart" aria-labelledby="${id}"><h2 id="${id}">${escapeHtml(title)}</h2><p>${escapeHtml(s.noDuplicates)}</p></section>`;
  }
  const bars: Bar[] = g.top.map((c, i) => ({
    label: format(s.cluster, i + 1, num(c.size), num((c.lines[0] ?? 0) + 1)),
    count: c.size,
    sel: { chart, cluster: i },
  }));
  return barChart(title, bars, s).replace('</h2>', `</h2><p class="stats">${escapeHtml(summary)}</p>`);
}

function fixed(x: number | null): string {
  return x === null ? '–' : x.toFixed(2);
}

/** The whole overview as an HTML fragment. */
export function renderOverview(f: OverviewFigures, s: OverviewStrings = OVERVIEW_STRINGS): string {
  const parts: string[] = [];
  parts.push(
    `<p class="summary">${escapeHtml(format(s.summary, num(f.records), num(f.dialogues), num(f.preferencePairs), num(f.lines), num(f.notRecords), num(f.blank)))}</p>`,
    `<p class="hint">${escapeHtml(s.clickHint)}</p>`,
  );
  if (f.formats.length)
    parts.push(
      barChart(
        s.formats,
        f.formats.map((x) => ({
          label: x.format,
          count: x.count,
          sel: { chart: 'format', format: x.format },
        })),
        s,
      ),
    );
  if (f.turns) parts.push(histogramChart(s.turns, f.turns, (bin) => ({ chart: 'turns', bin }), s));
  if (f.tokens)
    parts.push(
      histogramChart(format(s.tokens, f.tokenizer), f.tokens, (bin) => ({ chart: 'tokens', bin }), s),
    );
  for (const r of f.roles)
    parts.push(
      histogramChart(
        format(s.roleTokens, r.role, f.tokenizer),
        r.histogram,
        (bin) => ({ chart: 'role', role: r.role, bin }),
        s,
      ),
    );
  if (f.problems.length)
    parts.push(
      barChart(
        s.problems,
        f.problems.map((p) => ({ label: p.code, count: p.records, sel: { chart: 'problem', code: p.code } })),
        s,
      ),
    );
  else
    parts.push(
      `<section class="chart"><h2>${escapeHtml(s.problems)}</h2><p>${escapeHtml(s.noProblems)}</p></section>`,
    );
  const t = String(f.duplicates.threshold);
  parts.push(duplicates(s.exact, f.duplicates.exact, 'exact', s));
  parts.push(duplicates(format(s.userQuestions, t), f.duplicates.userQuestions, 'userQuestions', s));
  parts.push(duplicates(format(s.dialogues, t), f.duplicates.dialogues, 'dialogues', s));
  const p = f.paper;
  if (p.sessions > 0) {
    const id = `c${++ids}`;
    const row = (k: string, v: string): string =>
      `<tr><th scope="row">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`;
    parts.push(
      `<section class="chart" aria-labelledby="${id}"><h2 id="${id}">${escapeHtml(s.paper)}</h2><table class="measures"><tbody>` +
        row(s.sessions, num(p.sessions)) +
        row(s.turnsPerSession, fixed(p.turnsPerSession)) +
        row(s.contextDependent, fixed(p.contextDependentPerSession)) +
        row(format(s.selfRouge, p.selfRougeSample), fixed(p.selfRouge)) +
        `</tbody></table></section>`,
    );
  }
  return parts.join('\n');
}

/** Styles of the charts: VS Code's theme colours, with fallbacks for a page outside VS Code. */
export const OVERVIEW_CSS = `
.overview { font-family: var(--vscode-font-family, system-ui, sans-serif); color: var(--vscode-foreground, #1f1f1f); padding: 8px 16px 32px; max-width: 980px; }
.overview h1 { font-size: 1.4em; font-weight: 600; }
.overview h2 { font-size: 1.1em; font-weight: 600; margin: 0 0 4px; }
.overview .chart { margin: 18px 0; padding: 10px 12px; border: 1px solid var(--vscode-panel-border, var(--vscode-contrastBorder, #d0d0d0)); border-radius: 4px; overflow-x: auto; }
.overview .stats, .overview .hint { color: var(--vscode-descriptionForeground, #616161); margin: 2px 0 8px; }
.overview svg text { fill: var(--vscode-foreground, #1f1f1f); font-size: 11px; font-family: inherit; }
.overview svg .tick, .overview svg .mark-label { fill: var(--vscode-descriptionForeground, #616161); }
.overview .fill { fill: var(--vscode-charts-blue, #3794ff); stroke: var(--vscode-contrastBorder, none); }
.overview .hit { fill: transparent; }
.overview .bar { cursor: pointer; outline: none; }
.overview .bar:hover .fill, .overview .bar:focus .fill { fill: var(--vscode-charts-orange, #d18616); }
.overview .bar:focus .hit { stroke: var(--vscode-focusBorder, #0078d4); stroke-width: 2; }
.overview .axis { stroke: var(--vscode-descriptionForeground, #616161); }
.overview .mark { stroke: var(--vscode-charts-red, #f14c4c); stroke-dasharray: 3 2; }
.overview table { border-collapse: collapse; margin: 6px 0; }
.overview th, .overview td { text-align: left; padding: 2px 10px 2px 0; font-weight: normal; }
.overview thead th { font-weight: 600; }
.overview td { text-align: right; }
.overview .pick { font: inherit; color: var(--vscode-textLink-foreground, #006ab1); background: none; border: none; padding: 0; cursor: pointer; text-decoration: underline; }
.overview .pick:focus { outline: 1px solid var(--vscode-focusBorder, #0078d4); }
.overview summary { cursor: pointer; color: var(--vscode-textLink-foreground, #006ab1); }
@media (prefers-color-scheme: dark) { body.report { background: #1e1e1e; } body.report .overview { --vscode-foreground: #cccccc; --vscode-descriptionForeground: #9d9d9d; --vscode-panel-border: #444; --vscode-textLink-foreground: #4daafc; } }
@media (forced-colors: active) { .overview .fill { fill: CanvasText; } .overview .bar:focus .fill, .overview .bar:hover .fill { fill: Highlight; } .overview svg text { fill: CanvasText; } .overview .mark { stroke: Highlight; } }
`;
