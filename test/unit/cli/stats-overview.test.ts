import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { OverviewFigures } from '../../../src/core/overview';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const FILE = path.join(ROOT, 'examples', 'llamafactory_glaive_toolcall_en_demo.jsonl');

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('cli: stats --json and --html (the dataset overview)', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-stats-html-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the overview figures under --json, consistent with the rest of the stats', () => {
    const r = run('stats', '--json', FILE);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as {
      records: number;
      turnsHistogram: Record<string, number>;
      roles: Record<string, { tokens: number }>;
      overview: OverviewFigures;
    };
    const o = j.overview;
    assert.equal(o.records, j.records);
    // The same turns per record as the text stats, bin by bin.
    const fromBins: Record<string, number> = {};
    for (const b of o.turns?.bins ?? []) if (b.count) fromBins[String(b.lo)] = b.count;
    assert.deepEqual(fromBins, j.turnsHistogram);
    // Tokens per role: the histogram's mean x count is the role's total.
    for (const r of o.roles) {
      const total = Math.round(r.histogram.mean * r.histogram.count);
      assert.ok(Math.abs(total - (j.roles[r.role]?.tokens ?? 0)) <= r.histogram.count / 100 + 1, r.role);
    }
    assert.ok(
      o.tokens &&
        o.tokens.p50 <= o.tokens.p90 &&
        o.tokens.p90 <= o.tokens.p99 &&
        o.tokens.p99 <= o.tokens.max,
    );
    assert.equal(o.duplicates.threshold, 0.8);
    const t = JSON.parse(run('stats', '--json', '--threshold', '0.5', FILE).stdout) as {
      overview: OverviewFigures;
    };
    assert.equal(t.overview.duplicates.threshold, 0.5);
    assert.ok(t.overview.duplicates.dialogues.records >= o.duplicates.dialogues.records);
    assert.equal(run('stats', '--json', '--threshold', '2', FILE).code, 2);
  });

  it('gives a JSON array and a Parquet file the overview of the same records in JSONL', () => {
    const datasets = path.join(ROOT, 'test', 'fixtures', 'datasets');
    const overview = (file: string): OverviewFigures => {
      const r = run('stats', '--json', file);
      assert.equal(r.code, 0, r.stderr);
      return (JSON.parse(r.stdout) as { overview: OverviewFigures }).overview;
    };
    const want = overview(path.join(datasets, 'fastchat_dummy_conversation.jsonl'));
    assert.equal(want.records, 500);
    for (const ext of ['json', 'parquet'])
      assert.deepEqual(
        overview(path.join(datasets, 'containers', `fastchat_dummy_conversation.${ext}`)),
        want,
        ext,
      );
  });

  it('writes a self-contained HTML report with a chart and a table per figure', () => {
    const out = path.join(dir, 'report.html');
    const r = run('stats', '--html', out, FILE);
    assert.equal(r.code, 0, r.stderr);
    const html = readFileSync(out, 'utf8');
    assert.match(html, /^<!DOCTYPE html>/);
    const charts = html.match(/<section class="chart"[^>]*>/g) ?? [];
    const svgs = html.match(/<svg /g) ?? [];
    const tables = html.match(/<details class="alt"><summary>/g) ?? [];
    assert.ok(svgs.length >= 4, `${svgs.length} charts`);
    assert.equal(tables.length, svgs.length);
    assert.ok(charts.length >= svgs.length);
    assert.match(html, /Turns per record/);
    // No request leaves the page: no script, no external resource, a CSP that forbids them.
    assert.doesNotMatch(html, /<script|<link|<img|\b(src|href)=|url\(|@import/i);
    assert.match(html, /default-src 'none'/);
  });
});
