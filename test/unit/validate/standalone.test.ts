// The built-in validators are ajv standalone code generated at build time (scripts/build.mjs).
// They must judge every record exactly as validators compiled at run time from the same schemas with
// the same options: same verdict, same raw errors (schema, data and paths included), same messages.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ValidateFunction } from 'ajv/dist/2020';
import type { FormatId } from '../../../src/core/model';
import {
  BUILTIN_SCHEMAS,
  builtinValidator,
  FORMAT_IDS,
  newAjv,
  schemaProblems,
} from '../../../src/core/validate/schemas';
import { mulberry32 } from '../../support/random';

const ROOT = resolve(__dirname, '..', '..', '..', '..');
const DATASETS = join(ROOT, 'test', 'fixtures', 'datasets');
const CLI = join(ROOT, 'dist', 'cli.js');

function parsePointer(p: string): string[] {
  return p === ''
    ? []
    : p
        .slice(1)
        .split('/')
        .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Every record of the fixtures: JSONL lines and the elements of JSON-array files. */
function fixtureRecords(): unknown[] {
  const out: unknown[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.jsonl')) {
        for (const line of readFileSync(p, 'utf8').split('\n')) {
          try {
            out.push(JSON.parse(line));
          } catch {
            // not a record: nothing for a schema to judge
          }
        }
      } else if (e.name.endsWith('.json')) {
        try {
          const v: unknown = JSON.parse(readFileSync(p, 'utf8'));
          if (Array.isArray(v)) out.push(...(v as unknown[]));
          else out.push(v);
        } catch {
          // not JSON
        }
      }
    }
  };
  walk(DATASETS);
  return out;
}

const ODD_VALUES: unknown[] = [
  null,
  0,
  1.5,
  -1,
  '',
  'x',
  'user',
  'gpt',
  'assistant',
  true,
  [],
  {},
  [''],
  { type: 'text' },
];

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)];
}

/** One random structural edit somewhere in the value: a key dropped, added or retyped, an item removed or added. */
function mutateValue(rnd: () => number, v: unknown): unknown {
  if (Array.isArray(v)) {
    const a = [...(v as unknown[])];
    const r = rnd();
    if (a.length && r < 0.5) {
      const i = Math.floor(rnd() * a.length);
      a[i] = mutateValue(rnd, a[i]);
    } else if (a.length && r < 0.7) a.splice(Math.floor(rnd() * a.length), 1);
    else if (a.length && r < 0.85) a.push(structuredClone(pick(rnd, a)));
    else a.push(pick(rnd, ODD_VALUES));
    return a;
  }
  if (typeof v === 'object' && v !== null) {
    const o = { ...(v as Record<string, unknown>) };
    const keys = Object.keys(o);
    const r = rnd();
    if (keys.length && r < 0.5) {
      const k = pick(rnd, keys);
      o[k] = mutateValue(rnd, o[k]);
    } else if (keys.length && r < 0.7) delete o[pick(rnd, keys)];
    else if (r < 0.85)
      o[pick(rnd, ['extra', 'role', 'content', 'from', 'value', 'id', 'tools', 'label'])] = pick(
        rnd,
        ODD_VALUES,
      );
    else if (keys.length) o[pick(rnd, keys)] = pick(rnd, ODD_VALUES);
    return o;
  }
  return rnd() < 0.7 ? pick(rnd, ODD_VALUES) : v;
}

describe('validate/standalone built-in validators match runtime-compiled ones', function () {
  this.timeout(120000);
  const runtime = new Map<FormatId, ValidateFunction>();
  before(() => {
    const ajv = newAjv();
    for (const f of FORMAT_IDS) runtime.set(f, ajv.compile(BUILTIN_SCHEMAS[f]));
  });

  function same(value: unknown): number {
    let rejected = 0;
    for (const f of FORMAT_IDS) {
      const a = builtinValidator(f);
      const b = runtime.get(f)!;
      assert.notEqual(a, b);
      const okA = a(value);
      const okB = b(value);
      assert.equal(okA, okB, `${f}: verdict of ${JSON.stringify(value).slice(0, 200)}`);
      assert.deepStrictEqual(a.errors ?? null, b.errors ?? null, `${f}: errors`);
      if (!okA) {
        rejected++;
        assert.deepStrictEqual(
          schemaProblems(a.errors ?? [], value, parsePointer),
          schemaProblems(b.errors ?? [], value, parsePointer),
        );
      }
    }
    return rejected;
  }

  it('gives the same verdicts, errors and messages on every fixture record under every format', () => {
    const records = fixtureRecords();
    assert.ok(records.length > 100, `only ${records.length} fixture records`);
    let accepted = 0;
    for (const r of records) if (same(r) < FORMAT_IDS.length) accepted++;
    // Most fixture records are valid in their own format: the comparison covers accepting runs too.
    assert.ok(accepted > records.length / 2, `${accepted} of ${records.length} accepted by some format`);
  });

  it('gives the same verdicts, errors and messages on randomly mutated records', () => {
    const rnd = mulberry32(14);
    const records = fixtureRecords();
    let rejected = 0;
    for (let i = 0; i < 3000; i++) {
      let v = structuredClone(pick(rnd, records));
      const edits = 1 + Math.floor(rnd() * 3);
      for (let e = 0; e < edits; e++) v = mutateValue(rnd, v);
      rejected += same(v);
    }
    assert.ok(rejected > 1000, `only ${rejected} rejections: the mutations do not reach the schemas`);
  });

  it('the CLI validates a JSONL file without loading Parquet or the tokenizers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'parrot-standalone-'));
    try {
      const file = join(dir, 'a.jsonl');
      writeFileSync(
        file,
        '{"conversations":[{"from":"human","value":"hi"},{"from":"gpt","value":"hello"}]}\n' +
          '{"conversations":[{"from":"human","value":1},{"from":"gpt","value":"x"}]}\n',
      );
      // A preload script lists every file and bundled module the process requires.
      const hook = join(dir, 'hook.js');
      writeFileSync(
        hook,
        `const M = require('module'); const seen = []; const load = M._load;
         M._load = function (req, parent, isMain) { seen.push(req); return load.apply(this, arguments); };
         process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(join(dir, 'seen.json'))}, JSON.stringify(seen)));`,
      );
      const r = spawnSync(process.execPath, ['-r', hook, CLI, 'validate', file], { encoding: 'utf8' });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr + r.stdout, /"value" must be a string/);
      const seen = JSON.parse(readFileSync(join(dir, 'seen.json'), 'utf8')) as string[];
      assert.ok(seen.includes('./validators.js'), `validators not loaded: ${seen.join(' ')}`);
      for (const heavy of ['./parquet.js', './tokenizer.js', './hf-jinja.js', './hf-tokenizers.js'])
        assert.ok(!seen.includes(heavy), `${heavy} loaded for a JSONL validate`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
