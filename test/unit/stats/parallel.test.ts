import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { countTokens as libraryCount } from 'gpt-tokenizer/encoding/o200k_base';
import { fileStats, readFileLines } from '../../../src/core/stats';
import { Table1Collector } from '../../../src/core/stats/table1';
import { countTokens, countTokensCached } from '../../../src/core/tokens';
import { datasetsIn, fixtureStrings } from '../../support/fixtures';
import { mulberry32 } from '../../support/random';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const DATASETS = datasetsIn(ROOT);
const WORKER = path.join(ROOT, 'dist', 'stats.worker.js');

function fixtureLines(): string[] {
  return readdirSync(DATASETS)
    .filter((f) => f.endsWith('.jsonl'))
    .flatMap((f) => readFileSync(path.join(DATASETS, f), 'utf8').split('\n'))
    .filter((l) => l.trim() !== '');
}

describe('stats over byte ranges in worker threads', function () {
  this.timeout(300_000);
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-pstats-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the same figures and Table 1 as one thread, on real records and every kind of bad line', async () => {
    const rnd = mulberry32(14);
    const real = fixtureLines();
    const bad: (string | Buffer)[] = [
      '{"messages": [1,}',
      '',
      '   ',
      '{"instruction":"x","input":"","output":"y"}',
      '\ufeff{"id":"bom","conversations":[{"from":"human","value":"a BOM here"},{"from":"gpt","value":"x"}]}',
      // A dialogue with a byte that is not UTF-8: invalid for the stats, a session for Table 1.
      Buffer.concat([
        Buffer.from('{"id":"bytes","conversations":[{"from":"human","value":"caf'),
        Buffer.from([0xe9]),
        Buffer.from(
          '"},{"from":"gpt","value":"it refers to that"},{"from":"human","value":"and that one?"}]}',
        ),
      ]),
      '{"id":"eot","conversations":[{"from":"human","value":"what is <|endoftext|>?"},{"from":"gpt","value":"a special token"}]}',
    ];
    const parts: Buffer[] = [];
    let bytes = 0;
    // About 5 MiB: several ranges of 1 MiB, duplicates and repeated ids across them.
    while (bytes < 5 << 20) {
      const pick = rnd() < 0.02 ? bad[Math.floor(rnd() * bad.length)] : real[Math.floor(rnd() * real.length)];
      const b = Buffer.concat([
        typeof pick === 'string' ? Buffer.from(pick) : pick,
        Buffer.from(rnd() < 0.1 ? '\r\n' : '\n'),
      ]);
      parts.push(b);
      bytes += b.length;
    }
    const file = path.join(dir, 'mixed.jsonl');
    writeFileSync(file, Buffer.concat(parts));

    const t1One = new Table1Collector();
    const one = await fileStats(file, undefined, { workers: 0, table1: t1One });
    const t1Two = new Table1Collector();
    const two = await fileStats(file, undefined, {
      workers: 2,
      minWorkerBytes: 0,
      workerScript: WORKER,
      table1: t1Two,
    });
    // Table 1 as it was measured before: every line parsed again on its own.
    const t1Lines = new Table1Collector();
    for await (const l of readFileLines(file)) t1Lines.addLine(l.text);

    assert.ok(
      one.invalid.count > 10 && one.duplicates.samples > 100 && one.duplicates.ids > 100,
      'a mixed file',
    );
    assert.ok(one.roles.user.tokens > 0);
    assert.deepEqual(two, one);
    assert.deepEqual(JSON.stringify(two), JSON.stringify(one), 'the same key order');
    const t = t1One.result();
    assert.ok(t.queries > 1000 && t.selfRougeSample === 300, 'the reservoir replaced queries');
    assert.deepEqual(t1Two.result(), t);
    assert.deepEqual(t1Lines.result(), t);
  });

  it('parrot stats of a file with special-token text counts it as text (it used to fail)', () => {
    const file = path.join(dir, 'eot.jsonl');
    writeFileSync(
      file,
      '{"conversations":[{"from":"human","value":"hi <|endoftext|> x"},{"from":"gpt","value":"ok"}]}\n',
    );
    const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'stats', '--json', file], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { roles: Record<string, { tokens: number }> };
    // As ordinary text: more than the one token a special token would be, the pieces' counts summed.
    assert.equal(s.roles.user.tokens, libraryCount('hi <|') + libraryCount('endoftext|> x'));
    assert.ok(countTokens('<|endoftext|>') > 1);
  });
});

describe('countTokensCached', () => {
  it('equals countTokens on every text of the fixtures', () => {
    const texts = fixtureStrings(ROOT);
    assert.ok(texts.length > 1000);
    for (const t of texts)
      assert.equal(countTokensCached(t), countTokens(t), JSON.stringify(t.slice(0, 200)));
  });

  it('equals countTokens on random texts of spaces, punctuation, digits, letters of several scripts', () => {
    const rnd = mulberry32(200);
    const atoms = [
      ' ',
      '  ',
      '\t',
      '\n',
      '\r\n',
      ' \n',
      '.',
      ',',
      "'s",
      "'",
      '"',
      '(',
      ')',
      '-',
      '/',
      '1',
      '23',
      '4567',
      'the',
      'The',
      'THE',
      'model',
      'Ünïcödé',
      'é',
      '中文',
      '。',
      '日本語',
      'Ελληνικά',
      '😀',
      '\u00a0',
      '\u2003',
      '\u202f',
      '\ufeff',
      '\u0301',
      'ß',
      '！',
      '، ',
      '\ud83d',
      '\u3000',
      '<|',
      'x',
      'ab',
    ];
    for (let n = 0; n < 20000; n++) {
      let t = '';
      const len = 1 + Math.floor(rnd() * 24);
      for (let i = 0; i < len; i++) t += atoms[Math.floor(rnd() * atoms.length)];
      assert.equal(countTokensCached(t), countTokens(t), JSON.stringify(t));
    }
  });
});
