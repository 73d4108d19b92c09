import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ParquetRowSource,
  ParquetSchemaBuilder,
  writeParquet,
  type ParquetRecord,
} from '../../../src/core/store/containers/parquet';
import { datasetsIn } from '../../support/fixtures';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const DATASETS = datasetsIn(ROOT);
const CONTAINERS = path.join(DATASETS, 'containers');
const PYARROW = spawnSync('python3', ['-c', 'import pyarrow'], { encoding: 'utf8' }).status === 0;

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function jsonl(name: string): ParquetRecord[] {
  return readFileSync(path.join(DATASETS, name), 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as ParquetRecord);
}

async function readAll(file: string): Promise<ParquetRecord[]> {
  const src = await ParquetRowSource.open(file);
  try {
    return await src.rows(0, src.rowCount);
  } finally {
    await src.close();
  }
}

/** A Parquet file of the given records, written by us (schema inferred). */
async function parquetOf(records: ParquetRecord[]): Promise<string> {
  const b = new ParquetSchemaBuilder();
  for (const r of records) b.add(r);
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'parrot-cli-pq-')), 'in.parquet');
  await writeParquet(file, records, { schema: b.schema(), rowGroups: [7] });
  return file;
}

describe('cli: Parquet input and output', () => {
  it('validate: a pyarrow Parquet file gives the diagnostics of the same records as JSONL, as FILE:row N', () => {
    const pq = run('validate', path.join(CONTAINERS, 'llamafactory_dpo_en_demo.parquet'));
    const jl = run('validate', path.join(DATASETS, 'llamafactory_dpo_en_demo.jsonl'));
    assert.equal(pq.code, jl.code);
    const rows = pq.stdout.trimEnd().split('\n');
    const lines = jl.stdout.trimEnd().split('\n');
    assert.equal(rows.length, 5);
    assert.equal(rows.length, lines.length);
    for (let i = 0; i < rows.length; i++) {
      const m = /:row (\d+): (.*)$/.exec(rows[i]);
      const n = /:(\d+):\d+: (.*)$/.exec(lines[i]);
      assert.ok(m && n, rows[i] + ' / ' + lines[i]);
      assert.equal(m[1], n[1]);
      assert.equal(m[2], n[2].replace(/\bline (\d+)/, 'row $1'));
    }
    assert.match(
      rows[0],
      /llamafactory_dpo_en_demo\.parquet:row 158: warning duplicate\/dialogue: .* as row 14$/,
    );
    assert.match(pq.stderr, /300 rows, sharegpt-preference: 0 errors, 5 warnings/);
    const j = JSON.parse(
      run('validate', '--json', path.join(CONTAINERS, 'llamafactory_dpo_en_demo.parquet')).stdout,
    ) as {
      files: { rows: number; diagnostics: { row: number; code: string }[] }[];
    };
    assert.equal(j.files[0].rows, 300);
    assert.deepEqual(j.files[0].diagnostics[0], {
      row: 158,
      severity: 'warning',
      code: 'duplicate/dialogue',
      message: 'duplicate dialogue: same content as row 14',
    });
  });

  it('validate: a row that is no known format is an error at its row; exit 1', async () => {
    const records = jsonl('fastchat_dummy_conversation.jsonl').slice(0, 20);
    records[12] = { id: 'x', other: 'not a dialogue' };
    const file = await parquetOf(records);
    const r = run('validate', file);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(`^${file.replace(/[.\\]/g, '\\$&')}:row 13: error format/unknown`, 'm'),
    );
    assert.doesNotMatch(r.stdout, /:row (?!13:)/);
  });

  it('stats: the figures of a Parquet file are those of the same records as JSONL', () => {
    const pq = run('stats', '--json', path.join(CONTAINERS, 'fastchat_dummy_conversation.parquet'));
    const jl = run('stats', '--json', path.join(DATASETS, 'fastchat_dummy_conversation.jsonl'));
    assert.equal(pq.code, 0, pq.stderr);
    const a = JSON.parse(pq.stdout) as Record<string, unknown>;
    const b = JSON.parse(jl.stdout) as Record<string, unknown>;
    assert.equal(a.records, 500);
    for (const k of ['records', 'lines', 'formats', 'turnsHistogram', 'roles', 'duplicates', 'table1'])
      assert.deepEqual(a[k], b[k], k);
    const text = run('stats', path.join(CONTAINERS, 'fastchat_dummy_conversation.parquet')).stdout;
    assert.match(text, /500 record\(s\) in 500 row\(s\)/);
    assert.match(text, /invalid rows: 0/);
  });

  it('convert: Parquet in gives the JSONL that the same records as JSONL give; losses at FILE:row N', () => {
    const pq = run('convert', '--to', 'openai', path.join(CONTAINERS, 'fastchat_dummy_conversation.parquet'));
    const jl = run('convert', '--to', 'openai', path.join(DATASETS, 'fastchat_dummy_conversation.jsonl'));
    assert.equal(pq.code, 0, pq.stderr);
    assert.equal(pq.stdout, jl.stdout);
    assert.equal(pq.stdout.trimEnd().split('\n').length, 500);
    const file = path.join(CONTAINERS, 'fastchat_dummy_conversation.parquet');
    const lossy = run('convert', '--to', 'mt-bench', file);
    assert.match(lossy.stderr, /fastchat_dummy_conversation\.parquet:row 1: lost: 2 non-user turn/);
    const refused = run('convert', '--to', 'trl-preference', file);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /fastchat_dummy_conversation\.parquet:row 500: error: a dialogue cannot be converted/,
    );
  });

  it('convert -o x.parquet writes nested Parquet atomically that reads back as the converted records', async function () {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-cli-pq-'));
    const out = path.join(dir, 'out.parquet');
    const r = run(
      'convert',
      '--to',
      'openai',
      '-o',
      out,
      path.join(DATASETS, 'fastchat_dummy_conversation.jsonl'),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(dir), ['out.parquet']);
    const want = run('convert', '--to', 'openai', path.join(DATASETS, 'fastchat_dummy_conversation.jsonl'))
      .stdout.trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as ParquetRecord);
    assert.deepEqual(await readAll(out), want);
    // And our Parquet validates as the records it holds.
    const v = run('validate', out);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stderr, /500 rows, openai: 0 errors/);
    if (!PYARROW) this.skip(); // the pyarrow cross-check needs python3 with pyarrow
    const py = spawnSync(
      'python3',
      [
        '-c',
        'import json,sys,pyarrow.parquet as pq; t=pq.read_table(sys.argv[1]); print(json.dumps({"schema": str(t.schema), "rows": t.to_pylist()}))',
        out,
      ],
      { encoding: 'utf8', maxBuffer: 1 << 28 },
    );
    assert.equal(py.status, 0, py.stderr);
    const v2 = JSON.parse(py.stdout) as { schema: string; rows: ParquetRecord[] };
    assert.match(v2.schema, /messages: list<element: struct<role: string, content: string>>/);
    assert.deepEqual(v2.rows, want);
  });

  it('convert -o x.parquet leaves invalid lines out (Parquet cannot hold them) and says so', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-cli-pq-'));
    const input = path.join(dir, 'in.jsonl');
    writeFileSync(
      input,
      '{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}\n{"messages": [\n',
    );
    const out = path.join(dir, 'out.parquet');
    const r = run('convert', '--to', 'sharegpt', '-o', out, input);
    assert.equal(r.code, 1);
    assert.ok(r.stderr.includes(`${input}:2:15: error: invalid JSON`), r.stderr);
    assert.match(r.stderr, /1 invalid \(left out\)/);
    assert.deepEqual(await readAll(out), [
      {
        conversations: [
          { from: 'human', value: 'q' },
          { from: 'gpt', value: 'a' },
        ],
      },
    ]);
    assert.deepEqual(readdirSync(dir).sort(), ['in.jsonl', 'out.parquet']);
  });

  it('a file named .parquet that is not Parquet: each command says so with the file and exits 2', () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'parrot-cli-pq-')), 'bad.parquet');
    writeFileSync(file, '{"conversations": []}\n');
    for (const args of [['validate'], ['stats'], ['convert', '--to', 'openai']]) {
      const r = run(...args, file);
      assert.equal(r.code, 2, args.join(' '));
      assert.ok(r.stderr.includes(`${file} is not a readable Parquet file`), r.stderr);
    }
  });
});
