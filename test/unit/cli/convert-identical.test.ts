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

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const DIGESTS = path.join(ROOT, 'test', 'fixtures', 'convert-digests.json');

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)];
}

const TEXTS = [
  'Hi',
  'caf\u00e9 \u4e2d\u6587 \ud83e\udd9c',
  'a "quoted"\nline\t\\',
  '',
  '  ',
  '\u2028\u007f',
  'x'.repeat(300),
];
const NUMBERS = [0, -0, 1, 1.5, 1e21, 1e-7, 123456789012, -3.25];

/** Random JSON values of the model (what JSON.parse gives), nested a little. */
function randomValue(rnd: () => number, depth = 0): unknown {
  const k = Math.floor(rnd() * (depth > 2 ? 4 : 6));
  switch (k) {
    case 0:
      return pick(rnd, TEXTS);
    case 1:
      return pick(rnd, NUMBERS);
    case 2:
      return pick(rnd, [true, false, null]);
    case 3:
      return pick(rnd, TEXTS) + String(Math.floor(rnd() * 100));
    case 4:
      return Array.from({ length: Math.floor(rnd() * 4) }, () => randomValue(rnd, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(rnd() * 4); i > 0; i--)
        o[pick(rnd, ['a', 'b', '1', 'z\u00e9', 'meta'])] = randomValue(rnd, depth + 1);
      return o;
    }
  }
}

/** Records of several formats, with extra fields, number spellings and odd texts. */
function randomRecord(rnd: () => number): string {
  const n = 1 + Math.floor(rnd() * 4);
  const text = (): string => pick(rnd, TEXTS) + (rnd() < 0.5 ? ` ${Math.floor(rnd() * 1000)}` : '');
  let rec: Record<string, unknown>;
  switch (Math.floor(rnd() * 5)) {
    case 0:
      rec = {
        id: `r${Math.floor(rnd() * 100)}`,
        conversations: Array.from({ length: 2 * n }, (_, i) => ({
          from: i % 2 ? 'gpt' : 'human',
          value: text(),
        })),
      };
      if (rnd() < 0.3) rec.system = text();
      break;
    case 1:
      rec = {
        messages: Array.from({ length: 2 * n }, (_, i) => ({
          role: i % 2 ? 'assistant' : 'user',
          content: rnd() < 0.2 ? [{ type: 'text', text: text() }] : text(),
          ...(i % 2 && rnd() < 0.2 ? { weight: rnd() < 0.5 ? 0 : 1 } : {}),
        })),
      };
      break;
    case 2:
      rec = { instruction: text(), input: rnd() < 0.5 ? '' : text(), output: text() };
      break;
    case 3:
      rec = {
        prompt: [{ role: 'user', content: text() }],
        chosen: [{ role: 'assistant', content: text() }],
        rejected: [{ role: 'assistant', content: text() }],
      };
      break;
    default:
      rec = { question_id: Math.floor(rnd() * 200), category: 'writing', turns: [text(), text()] };
  }
  if (rnd() < 0.3) rec.extra = randomValue(rnd);
  let line = JSON.stringify(rec);
  // Number spellings JSON.stringify does not make, and spaces after separators.
  if (rnd() < 0.1) line = line.replace(/"extra":(-?\d+)([,}])/, '"extra":$1.0$2');
  if (rnd() < 0.1) line = line.replace(/,"/g, ', "');
  return line;
}

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
