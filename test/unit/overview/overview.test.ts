import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { histogram, overviewFile, percentile, selectLines } from '../../../src/core/overview';
import {
  estimateJaccard,
  exactJaccard,
  lshClusters,
  shingles,
  SIG_HASHES,
  signature,
  signInto,
  signTexts,
} from '../../../src/core/overview/minhash';
import { countTokens } from '../../../src/core/tokens';
import { mulberry32 } from '../../support/random';
import { datasetsIn } from '../../support/fixtures';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const WORKER = path.join(ROOT, 'dist', 'overview.worker.js');

const VOCAB = Array.from({ length: 2000 }, (_, i) => `w${i.toString(36)}`);

function words(rnd: () => number, n: number): string[] {
  return Array.from({ length: n }, () => VOCAB[Math.floor(rnd() * VOCAB.length)]);
}

/** `base` with `k` words replaced at random places. */
function mutate(rnd: () => number, base: readonly string[], k: number): string[] {
  const out = [...base];
  for (let i = 0; i < k; i++) out[Math.floor(rnd() * out.length)] = VOCAB[Math.floor(rnd() * VOCAB.length)];
  return out;
}

describe('overview: histograms and percentiles', () => {
  it('gives nearest-rank percentiles', () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    const sorted = Float64Array.from(v);
    assert.equal(percentile(sorted, 50), 50);
    assert.equal(percentile(sorted, 90), 90);
    assert.equal(percentile(sorted, 99), 99);
    assert.equal(percentile(sorted, 100), 100);
    assert.equal(percentile(Float64Array.from([7]), 50), 7);
    const h = histogram(v.reverse());
    assert.ok(h);
    assert.deepEqual([h.p50, h.p90, h.p99, h.max, h.min, h.mean], [50, 90, 99, 100, 1, 50.5]);
  });

  it('puts every value in exactly one bin, one bin per value for small ranges', () => {
    const h = histogram([2, 2, 3, 6, 6, 6]);
    assert.ok(h);
    assert.deepEqual(
      h.bins.map((b) => [b.lo, b.hi, b.count]),
      [
        [2, 3, 2],
        [3, 4, 1],
        [4, 5, 0],
        [5, 6, 0],
        [6, 7, 3],
      ],
    );
  });

  it('bins wide ranges with round widths up to p99 and one bin for the outliers', () => {
    const rnd = mulberry32(3);
    const v = Array.from({ length: 5000 }, () => Math.floor(rnd() * 1000));
    v.push(250_000, 900_000);
    const h = histogram(v);
    assert.ok(h);
    assert.ok(h.bins.length <= 32, `${h.bins.length} bins`);
    assert.equal(
      h.bins.reduce((a, b) => a + b.count, 0),
      v.length,
    );
    for (const x of v) assert.equal(h.bins.filter((b) => x >= b.lo && x < b.hi).length, 1, `value ${x}`);
    const last = h.bins[h.bins.length - 1];
    assert.equal(last.hi, 900_001);
    assert.equal(h.max, 900_000);
    assert.equal(histogram([]), null);
  });
});

describe('overview: MinHash and LSH', () => {
  it("signs a record's user texts and all its texts in one scan as each joined text alone", () => {
    const rnd = mulberry32(11);
    for (let r = 0; r < 200; r++) {
      const n = 1 + Math.floor(rnd() * 6);
      const texts = Array.from({ length: n }, (_, i) =>
        i === 2 ? 'ΣΊΣΥΦΟΣ café 中文🦜 x' : words(rnd, Math.floor(rnd() * 5)).join(rnd() < 0.5 ? ' ' : ', '),
      );
      const isUser = texts.map(() => rnd() < 0.5);
      const u = new Uint8Array(2 * SIG_HASHES);
      const a = new Uint8Array(2 * SIG_HASHES);
      const has = signTexts(texts, isUser, u, a, SIG_HASHES);
      const wantU = new Uint8Array(2 * SIG_HASHES);
      const wantA = new Uint8Array(2 * SIG_HASHES);
      const uHas = signInto(texts.filter((_, i) => isUser[i]).join('\n'), wantU, SIG_HASHES);
      const aHas = signInto(texts.join('\n'), wantA, SIG_HASHES);
      assert.equal(has, (uHas ? 1 : 0) | (aHas ? 2 : 0));
      assert.deepEqual(u, wantU);
      assert.deepEqual(a, wantA);
    }
  });

  it('estimates Jaccard similarity close to the exact one', () => {
    const rnd = mulberry32(11);
    let err = 0;
    let n = 0;
    for (let k = 0; k <= 60; k += 4) {
      for (let r = 0; r < 6; r++) {
        const base = words(rnd, 120);
        const a = base.join(' ');
        const b = mutate(rnd, base, k).join(' ');
        const sa = signature(a);
        const sb = signature(b);
        assert.ok(sa && sb);
        const both = new Uint8Array(2 * SIG_HASHES);
        both.set(sa, 0);
        both.set(sb, SIG_HASHES);
        err += Math.abs(estimateJaccard(both, 0, 1) - exactJaccard(a, b));
        n++;
      }
    }
    assert.ok(err / n < 0.08, `mean absolute error ${(err / n).toFixed(3)}`);
  });

  it('finds the clusters that exact all-pairs Jaccard finds on constructed near-duplicates', () => {
    const rnd = mulberry32(5);
    const texts: string[] = [];
    for (let g = 0; g < 40; g++) {
      const base = words(rnd, 80);
      texts.push(base.join(' '));
      for (let v = 0; v < 3; v++) texts.push(mutate(rnd, base, 1).join(' '));
    }
    for (let u = 0; u < 300; u++) texts.push(words(rnd, 80).join(' '));
    // Shuffle so that clusters are not runs of consecutive records.
    for (let i = texts.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [texts[i], texts[j]] = [texts[j], texts[i]];
    }
    const n = texts.length;
    const sigs = new Uint8Array(n * SIG_HASHES);
    const has = new Uint8Array(n).fill(1);
    texts.forEach((t, i) => sigs.set(signature(t) as Uint8Array, i * SIG_HASHES));
    const threshold = 0.8;
    const got = lshClusters(sigs, has, n, threshold);
    // Exact reference: union of all pairs with exact Jaccard >= threshold.
    const sets = texts.map(shingles);
    const jaccard = (i: number, j: number): number => {
      let both = 0;
      for (const h of sets[i]) if (sets[j].has(h)) both++;
      return both / (sets[i].size + sets[j].size - both);
    };
    assert.equal(jaccard(0, 1), exactJaccard(texts[0], texts[1]));
    const parent = Array.from({ length: n }, (_, i) => i);
    const find = (x: number): number => (parent[x] === x ? x : (parent[x] = find(parent[x])));
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++) if (jaccard(i, j) >= threshold) parent[find(j)] = find(i);
    const ref = new Map<number, number[]>();
    for (let i = 0; i < n; i++) ref.set(find(i), [...(ref.get(find(i)) ?? []), i]);
    const refClusters = [...ref.values()].filter((c) => c.length > 1);
    assert.ok(refClusters.length >= 35, `${refClusters.length} reference clusters`);
    const key = (c: number[]): string => [...c].sort((a, b) => a - b).join(',');
    const gotKeys = new Set(got.map(key));
    const same = refClusters.filter((c) => gotKeys.has(key(c))).length;
    assert.ok(same >= refClusters.length * 0.9, `${same} of ${refClusters.length} clusters found exactly`);
    // No false joins: every pair inside a found cluster is similar in exact terms.
    for (const c of got)
      for (const i of c) {
        const best = Math.max(...c.filter((j) => j !== i).map((j) => jaccard(i, j)));
        assert.ok(best >= 0.6, `record ${i} joined a cluster it is not similar to (${best.toFixed(2)})`);
      }
  });
});

describe('overview: figures of a file', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-overview-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const sg = (...texts: string[]): string =>
    JSON.stringify({
      conversations: texts.map((value, i) => ({ from: i % 2 ? 'gpt' : 'human', value })),
    });

  it('counts formats, turns, tokens per role, problems and exact duplicates, and selects lines', async () => {
    const recs = [
      sg('What is a tokenizer?', 'It splits text into tokens.'),
      sg('Explain attention.', 'Weights over positions.', 'And multi-head?', 'Several in parallel.'),
      '{"messages": [',
      '',
      JSON.stringify({
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: 'Hello!' },
        ],
      }),
      sg('What is a tokenizer?', 'It splits text into tokens.'),
    ];
    const file = path.join(dir, 'mixed.jsonl');
    writeFileSync(file, recs.join('\n') + '\n');
    const o = await overviewFile(file, { workers: 0 });
    const f = o.figures;
    assert.equal(f.lines, 6);
    assert.equal(f.blank, 1);
    assert.equal(f.records, 4);
    assert.equal(f.notRecords, 1);
    assert.deepEqual(f.formats, [
      { format: 'sharegpt', count: 3 },
      { format: 'openai', count: 1 },
    ]);
    assert.deepEqual(
      f.turns?.bins.filter((b) => b.count).map((b) => [b.lo, b.count]),
      // The OpenAI record's system message is one of its turns, as `parrot stats` counts it.
      [
        [2, 2],
        [3, 1],
        [4, 1],
      ],
    );
    const tok = (...t: string[]): number => t.reduce((a, x) => a + countTokens(x), 0);
    const user = f.roles.find((r) => r.role === 'user')?.histogram;
    assert.equal(user?.max, tok('Explain attention.', 'And multi-head?'));
    assert.equal(f.roles.find((r) => r.role === 'system')?.histogram.count, 1);
    assert.equal(
      f.tokens?.max,
      tok('Explain attention.', 'Weights over positions.', 'And multi-head?', 'Several in parallel.'),
    );
    assert.ok(
      f.problems.some((p) => p.code.startsWith('json/')),
      JSON.stringify(f.problems),
    );
    const json = f.problems.find((p) => p.code.startsWith('json/'));
    assert.deepEqual(selectLines(o, { chart: 'problem', code: json?.code ?? '' }), [2]);
    assert.equal(f.duplicates.exact.clusters, 1);
    assert.deepEqual(f.duplicates.exact.top[0].lines, [0, 5]);
    assert.deepEqual(selectLines(o, { chart: 'exact', cluster: 0 }), [0, 5]);
    assert.deepEqual(selectLines(o, { chart: 'format', format: 'openai' }), [4]);
    const four = f.turns?.bins.findIndex((b) => b.lo === 4) ?? -1;
    assert.deepEqual(selectLines(o, { chart: 'turns', bin: four }), [1]);
    assert.equal(f.paper.sessions, 4);
    assert.equal(f.paper.queries, 5);
  });

  it('gives the same figures from two worker threads as from one thread, and cancels', async () => {
    const src = path.join(datasetsIn(ROOT), 'llamafactory_glaive_toolcall_en_demo.jsonl');
    const one = await overviewFile(src, { workers: 0 });
    const two = await overviewFile(src, { workers: 2, minWorkerBytes: 0, workerScript: WORKER });
    assert.deepEqual(two.figures, one.figures);
    assert.ok(one.figures.records > 100);
    // A file of several parts (blank lines among them): the same figures, records named by line.
    const big = path.join(dir, 'big.jsonl');
    writeFileSync(big, readFileSync(src, 'utf8').repeat(3) + '\n\n' + readFileSync(src, 'utf8').repeat(3));
    const whole = await overviewFile(big, { workers: 0 });
    const parts = await overviewFile(big, {
      workers: 2,
      minWorkerBytes: 0,
      partBytes: 64 << 10,
      workerScript: WORKER,
    });
    assert.equal(whole.figures.blank, 2);
    assert.deepEqual(parts.figures, whole.figures);
    const fmt = whole.figures.formats[0].format;
    assert.deepEqual(
      selectLines(parts, { chart: 'format', format: fmt }),
      selectLines(whole, { chart: 'format', format: fmt }),
    );
    assert.ok(whole.figures.duplicates.exact.clusters > 0);
    assert.deepEqual(parts.clusters, whole.clusters);
    // Cancelled after the first part is measured.
    const ctl = new AbortController();
    await assert.rejects(
      overviewFile(big, {
        workers: 2,
        minWorkerBytes: 0,
        workerScript: WORKER,
        signal: ctl.signal,
        onProgress: (done, total) => {
          if (done < total) ctl.abort();
        },
      }),
      (e: Error) => e.name === 'AbortError',
    );
  });
});

describe('overview: JSON arrays and Parquet files', () => {
  const datasets = datasetsIn(ROOT);
  const containers = path.join(datasets, 'containers');
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-overview-containers-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const name of ['fastchat_dummy_conversation', 'llamafactory_dpo_en_demo']) {
    it(`gives the JSONL figures of the same records for ${name}.json and ${name}.parquet`, async () => {
      const jsonl = await overviewFile(path.join(datasets, `${name}.jsonl`), { workers: 0 });
      assert.ok(jsonl.figures.records >= 300);
      for (const file of [`${name}.json`, `${name}.parquet`]) {
        const src = path.join(containers, file);
        const one = await overviewFile(src, { workers: 0 });
        assert.deepEqual(one.figures, jsonl.figures, `${file}, in this thread`);
        // In worker threads, in parts of ~16 KB (JSON array) or by row group (Parquet).
        const two = await overviewFile(src, {
          workers: 2,
          minWorkerBytes: 0,
          partBytes: 16 << 10,
          workerScript: WORKER,
        });
        assert.deepEqual(two.figures, jsonl.figures, `${file}, in two workers`);
        // A bar selects the same records, named as the editor names them (element, row).
        const bin = jsonl.figures.turns?.bins.findIndex((b) => b.count > 0) ?? -1;
        assert.ok(bin >= 0);
        const want = selectLines(jsonl, { chart: 'turns', bin });
        assert.ok(want.length > 0);
        assert.deepEqual(selectLines(two, { chart: 'turns', bin }), want);
        assert.deepEqual(selectLines(one, { chart: 'turns', bin }), want);
      }
    });
  }

  it('reads a Parquet file of several row groups in workers as pyarrow reads its rows', async () => {
    // pyarrow's own reading of the rows, as JSONL: the same records.
    const rows = JSON.parse(
      readFileSync(path.join(containers, 'pyarrow_row_groups.pyarrow.json'), 'utf8'),
    ) as unknown[];
    const jsonl = path.join(dir, 'pyarrow_row_groups.jsonl');
    writeFileSync(jsonl, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const want = await overviewFile(jsonl, { workers: 0 });
    const got = await overviewFile(path.join(containers, 'pyarrow_row_groups.parquet'), {
      workers: 2,
      minWorkerBytes: 0,
      workerScript: WORKER,
    });
    assert.equal(got.figures.records, rows.length);
    assert.deepEqual(got.figures, want.figures);
  });

  it('names records by element in a JSON array that spans lines, and reports a broken one with its position', async () => {
    const recs = [
      {
        conversations: [
          { from: 'human', value: 'Hi' },
          { from: 'gpt', value: 'Hello' },
        ],
      },
      {
        conversations: [
          { from: 'human', value: 'Again' },
          { from: 'gpt', value: 'Sure' },
        ],
      },
      {
        conversations: [
          { from: 'human', value: 'Hi' },
          { from: 'gpt', value: 'Hello' },
        ],
      },
    ];
    const file = path.join(dir, 'pretty.json');
    writeFileSync(file, JSON.stringify(recs, null, 2) + '\n');
    for (const opts of [
      { workers: 0 },
      { workers: 2, minWorkerBytes: 0, partBytes: 64, workerScript: WORKER },
    ]) {
      const o = await overviewFile(file, opts);
      assert.equal(o.figures.records, 3);
      assert.equal(o.figures.lines, 3);
      assert.deepEqual(selectLines(o, { chart: 'exact', cluster: 0 }), [0, 2]);
    }
    const broken = path.join(dir, 'broken.json');
    writeFileSync(broken, '[\n  {"conversations": []},\n  {"conversations": [}\n]\n');
    for (const opts of [{ workers: 0 }, { workers: 2, minWorkerBytes: 0, workerScript: WORKER }])
      await assert.rejects(overviewFile(broken, opts), /line 3, column \d+/);
  });
});
