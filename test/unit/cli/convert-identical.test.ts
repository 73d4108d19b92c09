// `parrot convert` writes the same bytes as the implementation before its output was batched and
// compact records were written with one JSON.stringify: the digests in
// test/fixtures/convert-digests.json were recorded with that implementation (run this file with
// PARROT_RECORD_DIGESTS=1 to record them again, on purpose only), for every fixture dataset and a
// seeded random file, to every format, with and without --keep-unknown. They were recorded again
// (on purpose) when convert gained the KTO and TRL formats, the LLaMA-Factory v1 tool-call mapping
// and the report of numbers a double cannot hold, which change what it writes; since then they
// guard against any other change of its output.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FORMAT_IDS, serializeLike, COMPACT_STYLE } from '../../../src/core/formats';
import { datasetsIn } from '../../support/fixtures';
import { mulberry32 } from '../../support/random';
import { randomRecord, randomValue } from '../../support/randomRecords';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const DIGESTS = path.join(ROOT, 'test', 'fixtures', 'convert-digests.json');

function digest(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 32);
}

describe('cli: convert writes what it wrote before (byte for byte)', function () {
  this.timeout(300_000);
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'ps-convert-same-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('compact serialisation is the walk over the value, on random values', () => {
    const rnd = mulberry32(5);
    for (let i = 0; i < 20_000; i++) {
      const v = randomValue(rnd);
      // An empty number-spelling map takes the general walk, which writes the same compact text.
      assert.equal(serializeLike(v, COMPACT_STYLE), serializeLike(v, { ...COMPACT_STYLE, numbers: {} }));
    }
    assert.equal(serializeLike([1, undefined, () => 1], COMPACT_STYLE), '[1,null,null]');
    assert.equal(serializeLike({ a: undefined, b: -0, c: NaN }, COMPACT_STYLE), '{"b":0,"c":null}');
  });

  it('every fixture and a random file, to every format', () => {
    const rnd = mulberry32(9);
    const randomFile = path.join(dir, 'random.jsonl');
    const lines = Array.from({ length: 3000 }, () => randomRecord(rnd));
    lines.splice(100, 0, '{"broken": ', '', '[1,2]');
    writeFileSync(randomFile, lines.join('\n') + '\n');
    // Run where the file is, by its name: messages name the file as given.
    const inputs: [string, string][] = [
      ...readdirSync(datasetsIn(ROOT))
        .filter((f) => f.endsWith('.jsonl'))
        .sort()
        .map((f) => [f, datasetsIn(ROOT)] as [string, string]),
      ['random.jsonl', dir],
    ];
    const got: Record<string, string> = {};
    for (const [name, cwd] of inputs) {
      for (const to of FORMAT_IDS) {
        for (const keep of [false, true]) {
          const args = ['convert', '--to', to, ...(keep ? ['--keep-unknown'] : []), name];
          const r = spawnSync(process.execPath, [CLI, ...args], {
            cwd,
            encoding: 'utf8',
            maxBuffer: 1 << 30,
          });
          got[`${name} --to ${to}${keep ? ' --keep-unknown' : ''}`] =
            `${r.status} ${digest(r.stdout)} ${digest(r.stderr)}`;
        }
      }
    }
    if (process.env.PARROT_RECORD_DIGESTS === '1') {
      writeFileSync(DIGESTS, JSON.stringify(got, null, 2) + '\n');
      return;
    }
    const expected = JSON.parse(readFileSync(DIGESTS, 'utf8')) as Record<string, string>;
    assert.deepEqual(got, expected);
  });
});
