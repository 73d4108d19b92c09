import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { datasetsIn } from '../../support/fixtures';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const CONTAINERS = path.join(datasetsIn(ROOT), 'containers');

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** 1-based line and column of the first occurrence of `needle` in `text`. */
function positionOf(text: string, needle: string): string {
  const at = text.indexOf(needle);
  assert.ok(at >= 0, needle);
  const before = text.slice(0, at).split('\n');
  return `${before.length}:${before[before.length - 1].length + 1}`;
}

describe('cli: JSON array files', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-cli-json-'));

  it('validate reports problems of JSON array records at the file line and column', () => {
    const file = path.join(dir, 'bad.json');
    const text =
      '[\n  {\n    "messages": [\n      {"role": "user", "content": ""},\n      {"role": "assistant", "content": "ok"}\n    ]\n  },\n' +
      '  {"messages": [{"role": "usr", "content": "hi"}, {"role": "assistant", "content": "a"}]},\n  {"messages": [], "x": tru}\n]\n';
    writeFileSync(file, text);
    const r = run('validate', file);
    assert.equal(r.code, 1, r.stderr);
    // content/empty marks the value "" of record 1, on line 4.
    assert.ok(r.stdout.includes(`${file}:${positionOf(text, '""')}: warning content/empty`), r.stdout);
    assert.ok(r.stdout.includes(`${file}:${positionOf(text, '"usr"')}: error role/invalid`), r.stdout);
    // invalid JSON inside an element is positioned in the file too (the `tru`).
    assert.match(
      r.stdout,
      new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:9:\\d+: error json/syntax`),
    );
  });

  it('validate and stats say why a .json file is not an array of records', () => {
    const file = path.join(dir, 'settings.json');
    writeFileSync(file, '{\n  "identity": {"file_name": "identity.json"}\n}\n');
    const v = run('validate', file);
    assert.equal(v.code, 1);
    assert.ok(
      v.stdout.includes(`${file}:1:1: error json/syntax: the file is a JSON object, not an array of records`),
      v.stdout,
    );
    const s = run('stats', file);
    assert.notEqual(s.code, 0);
    assert.match(s.stderr, /a JSON object, not an array of records \(line 1, column 1\)/);
  });

  it('stats of a published LLaMA-Factory array count its elements as records', () => {
    const file = path.join(CONTAINERS, 'llamafactory_dpo_en_demo.json');
    const r = run('stats', '--json', file);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as {
      records: number;
      preferencePairs: number;
      formats: Record<string, number>;
    };
    assert.equal(s.records, 300);
    assert.equal(s.preferencePairs, 300);
    assert.deepEqual(s.formats, { 'sharegpt-preference': 300 });
  });

  it('convert reads a JSON array and writes JSONL, or a JSON array with -o out.json', () => {
    const file = path.join(CONTAINERS, 'llamafactory_identity.json');
    const items = JSON.parse(readFileSync(file, 'utf8')) as Array<{ instruction: string; output: string }>;
    const lines = run('convert', '--to', 'openai', file);
    assert.equal(lines.code, 0, lines.stderr);
    const out = lines.stdout.trimEnd().split('\n');
    assert.equal(out.length, items.length);
    const m = JSON.parse(out[3]) as { messages: { content: string }[] };
    assert.deepEqual(
      m.messages.map((x) => x.content),
      [items[3].instruction, items[3].output],
    );
    const target = path.join(dir, 'out.json');
    const arr = run('convert', '--to', 'openai', '-o', target, file);
    assert.equal(arr.code, 0, arr.stderr);
    const written = readFileSync(target, 'utf8');
    const parsed = JSON.parse(written) as unknown[];
    assert.deepEqual(
      parsed,
      out.map((l) => JSON.parse(l) as unknown),
    );
    assert.equal(written, JSON.stringify(parsed, null, 2) + '\n', 'written as json.dump(indent=2)');
    // Back to Alpaca from the array just written: the same records as the original.
    const back = path.join(dir, 'back.json');
    assert.equal(run('convert', '--to', 'alpaca', '-o', back, target).code, 0);
    const again = JSON.parse(readFileSync(back, 'utf8')) as Array<{ instruction: string; output: string }>;
    assert.deepEqual(
      again.map((r) => [r.instruction, r.output]),
      items.map((r) => [r.instruction, r.output]),
    );
    // An empty input array gives an empty output array.
    const empty = path.join(dir, 'empty.json');
    writeFileSync(empty, '[]\n');
    assert.equal(run('convert', '--to', 'openai', '-o', target, empty).code, 0);
    assert.equal(readFileSync(target, 'utf8'), '[]\n');
  });

  it('the generation commands read JSON arrays: ask --record takes the line a record starts on', () => {
    const file = path.join(CONTAINERS, 'fastchat_dummy_conversation.json');
    const text = readFileSync(file, 'utf8');
    const items = JSON.parse(text) as Array<{ id: string; conversations: { value: string }[] }>;
    // The line record 3 starts on.
    const line = text.slice(0, text.indexOf(`"id": "${items[2].id}"`)).split('\n').length - 1;
    const r = spawnSync(process.execPath, [CLI, 'ask', '--preview', '--record', String(line), file], {
      encoding: 'utf8',
      env: { ...process.env, PARROT_BASE_URL: 'http://127.0.0.1:9' },
    });
    assert.equal(r.status, 0, r.stderr);
    const body = JSON.parse(r.stdout) as { messages: { content: string }[] };
    assert.deepEqual(
      body.messages.slice(1).map((m) => m.content),
      items[2].conversations.map((c) => c.value),
    );
  });

  it('invalid records of a JSON array are reported at their position and left out of a JSON array output', () => {
    const file = path.join(dir, 'mixed.json');
    const text =
      '[\n  {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]},\n  {"nothing": 1}\n]\n';
    writeFileSync(file, text);
    const target = path.join(dir, 'mixed-out.json');
    const r = run('convert', '--to', 'sharegpt', '-o', target, file);
    assert.equal(r.code, 1);
    assert.ok(r.stderr.includes(`${file}:3:3: error`), r.stderr);
    const out = JSON.parse(readFileSync(target, 'utf8')) as unknown[];
    assert.equal(out.length, 1);
  });
});
