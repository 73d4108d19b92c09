// stats' fast path (range.ts: the lines the validation kernel accepts counted from their bytes by
// fast.wat's `turns`) against the full path (every line parsed): the same part of a range — counts
// per role and format, code points, tokens, ids, sample digests, Table 1 — on random files of
// ShareGPT records in every writing (spaces, `\r`, `\/` escapes, one-character edits, numeric and
// string ids, CJK, emoji, lone surrogates), repeated records, invalid and blank lines, and lines
// longer than the kernel's blocks.
import * as assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { measureStatsRange } from '../../../src/core/stats/range';
import { mulberry32 } from '../../support/random';
import { mutate, pick, randomRecord, rewrite } from '../../support/shareGptRandom';

const ROOT = resolve(__dirname, '..', '..', '..', '..');
const DATASETS = join(ROOT, 'test', 'fixtures', 'datasets');

/** `\/` for some of the slashes, as some JSON writers escape them. */
function slashes(rnd: () => number, line: string): string {
  return rnd() < 0.1 ? line.replace(/\//g, (m) => (rnd() < 0.5 ? '\\/' : m)) : line;
}

function randomLines(seed: number, count: number): string[] {
  const rnd = mulberry32(seed);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = rnd();
    if (r < 0.01) lines.push('{"broken": ');
    else if (r < 0.02) lines.push('   ');
    else if (r < 0.05 && lines.length > 0)
      lines.push(pick(rnd, lines)); // a repeated record
    else if (r < 0.06)
      lines.push(
        JSON.stringify({
          id: i,
          conversations: [
            { from: 'human', value: '中文 🦜 ' + i },
            { from: 'gpt', value: 'é\ud800' },
          ],
        }),
      );
    else {
      let text = slashes(rnd, rewrite(rnd, JSON.stringify(randomRecord(rnd))));
      if (rnd() < 0.1) text = mutate(rnd, text);
      lines.push(text);
    }
  }
  return lines;
}

describe('stats/fast path agrees with the full path', function () {
  this.timeout(300_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'ps-fast-stats-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function compare(file: string, tokens: boolean, minFast: number): Promise<void> {
    const end = readFileSync(file).length;
    const task = { id: 0, path: file, start: 0, end, tokens };
    const fast = await measureStatsRange(task);
    const full = await measureStatsRange({ ...task, fastPath: false });
    assert.ok((fast.fastLines ?? 0) >= minFast, `${fast.fastLines} lines took the fast path`);
    assert.equal(full.fastLines, 0);
    assert.deepEqual({ ...fast, fastLines: 0 }, full);
  }

  it('random records, with and without tokens', async () => {
    const lines = randomLines(41, 12000);
    // The same sample twice with a key of 0.4–1 MiB, once by the fast path and once (an id the
    // kernel does not take) by the full one: one repeated sample either way.
    const big = [
      { from: 'human', value: 'q' },
      { from: 'gpt', value: 'y\u00e9 '.repeat(150_000) },
    ];
    lines.splice(
      3000,
      0,
      JSON.stringify({ id: 'a', conversations: big }),
      JSON.stringify({ id: '\u00e9', conversations: big }),
    );
    // A record longer than the kernel's 1 MiB blocks, and CRLF endings on some lines.
    lines.splice(
      9000,
      0,
      JSON.stringify({
        conversations: [
          { from: 'human', value: 'x '.repeat(600_000) },
          { from: 'gpt', value: 'ok' },
        ],
      }),
    );
    const file = join(dir, 'random.jsonl');
    writeFileSync(file, lines.map((l, i) => l + (i % 17 === 0 ? '\r\n' : '\n')).join(''));
    const part = await measureStatsRange({
      id: 0,
      path: file,
      start: 0,
      end: readFileSync(file).length,
      tokens: false,
    });
    const [a, b] = [part.recordLines.indexOf(3001), part.recordLines.indexOf(3002)];
    assert.ok(a >= 0 && b >= 0);
    assert.equal(part.hashes[a], part.hashes[b]);
    await compare(file, false, 1000);
    await compare(file, true, 1000);
  });

  it('every fixture dataset', async () => {
    let fastLines = 0;
    for (const name of readdirSync(DATASETS).filter((n) => n.endsWith('.jsonl'))) {
      const file = join(DATASETS, name);
      const end = readFileSync(file).length;
      const task = { id: 0, path: file, start: 0, end, tokens: true };
      const fast = await measureStatsRange(task);
      const full = await measureStatsRange({ ...task, fastPath: false });
      fastLines += fast.fastLines ?? 0;
      assert.deepEqual({ ...fast, fastLines: 0 }, full, name);
    }
    assert.ok(fastLines > 0);
  });
});
