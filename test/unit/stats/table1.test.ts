import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { contextDependence } from '../../../src/core/parrot/context';
import { Table1Collector, rougeL, rougeTokens, selfRouge } from '../../../src/core/stats/table1';
import { datasetsIn } from '../../support/fixtures';
import { mulberry32 } from '../../support/random';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const DATASETS = datasetsIn(ROOT);

describe('stats: Table 1 measures', () => {
  it('ROUGE-L F1 and Self-ROUGE', () => {
    // LCS("the cat sat on the mat", "the cat on a mat") = "the cat on mat" = 4; P = 4/5, R = 4/6.
    const a = rougeTokens('The cat sat on the mat.');
    const b = rougeTokens('the cat on a mat');
    assert.ok(Math.abs(rougeL(a, b) - (2 * (4 / 5) * (4 / 6)) / (4 / 5 + 4 / 6)) < 1e-12);
    assert.equal(rougeL(a, []), 0);
    assert.equal(selfRouge([a, a, a]), 100);
    assert.equal(selfRouge([rougeTokens('one two'), rougeTokens('three four')]), 0);
    assert.equal(selfRouge([a]), null);
  });

  it('Self-ROUGE (bit-parallel LCS) equals the mean of the table-filling ROUGE-L over every pair', () => {
    const rnd = mulberry32(31);
    for (const vocab of [2, 5, 40, 3000]) {
      const queries = Array.from({ length: 120 }, () =>
        Array.from({ length: Math.floor(rnd() * 65) }, () => `w${Math.floor(rnd() * vocab)}`),
      );
      let sum = 0;
      let pairs = 0;
      for (let i = 0; i < queries.length; i++)
        for (let j = i + 1; j < queries.length; j++) {
          sum += rougeL(queries[i], queries[j]);
          pairs++;
        }
      assert.equal(selfRouge(queries), Math.round((sum / pairs) * 10000) / 100, `vocabulary ${vocab}`);
    }
  });

  it('counts turns and context-dependent queries per session, and samples Self-ROUGE with a fixed seed', () => {
    const lines = readFileSync(path.join(DATASETS, 'mt_bench_questions.jsonl'), 'utf8').trimEnd().split('\n');
    const c = new Table1Collector();
    for (const l of lines) c.addLine(l);
    const r = c.result();
    assert.equal(r.sessions, 80);
    assert.equal(r.turnsPerSession, 2);
    // Reference count: the detector on every second question, with the first in its history.
    let dep = 0;
    for (const l of lines) {
      const q = JSON.parse(l) as { turns: string[] };
      if (contextDependence(q.turns[1], [{ role: 'user', content: q.turns[0] }]).dependent) dep++;
    }
    assert.ok(dep > 0);
    assert.equal(r.contextDependentPerSession, Math.round((dep / 80) * 100) / 100);
    // All 160 queries fit the sample: Self-ROUGE is exact here.
    assert.equal(r.selfRougeSample, 160);
    const all = lines.flatMap((l) => (JSON.parse(l) as { turns: string[] }).turns.map(rougeTokens));
    assert.equal(r.selfRouge, selfRouge(all));
    // A smaller sample is a fixed-seed one: the same figure every run.
    const s1 = new Table1Collector(50);
    const s2 = new Table1Collector(50);
    for (const l of lines) {
      s1.addLine(l);
      s2.addLine(l);
    }
    assert.equal(s1.result().selfRougeSample, 50);
    assert.equal(s1.result().selfRouge, s2.result().selfRouge);
  });

  it('parrot stats a b: per file and side by side, --json gives one object per file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'parrot-t1-'));
    try {
      const a = path.join(DATASETS, 'mt_bench_questions.jsonl');
      const same = path.join(dir, 'same.jsonl');
      const q =
        '{"messages":[{"role":"user","content":"How do I sort a list?"},{"role":"assistant","content":"sorted()"}]}';
      writeFileSync(same, `${q}\n${q}\n`);
      const r = spawnSync(process.execPath, [CLI, 'stats', a, same], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /table 1: 2\.00 turn\(s\)\/session/);
      assert.match(r.stdout, /Self-ROUGE 100\.00 \(2 of 2 user queries/);
      const side = r.stdout.slice(r.stdout.lastIndexOf('file '));
      assert.match(side, /sessions\s+turns\/session\s+context-dep\.\/session\s+Self-ROUGE/);
      assert.match(
        side,
        new RegExp(`${same.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+2\\s+1\\.00\\s+0\\.00\\s+100\\.00`),
      );
      const j = spawnSync(process.execPath, [CLI, 'stats', '--json', a, same], { encoding: 'utf8' });
      const objs = JSON.parse(j.stdout) as {
        file: string;
        table1: { sessions: number; selfRouge: number };
      }[];
      assert.deepEqual(
        objs.map((o) => [o.file, o.table1.sessions]),
        [
          [a, 80],
          [same, 2],
        ],
      );
      assert.equal(objs[1].table1.selfRouge, 100);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
