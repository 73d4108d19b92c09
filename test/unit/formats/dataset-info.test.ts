import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  alignRecord,
  datasetAttr,
  insertEntry,
  parseDatasetInfo,
} from '../../../src/core/formats/datasetInfo';
import { checkDatasetInfo, findEntry, registerDataset } from '../../../src/core/formats/datasetInfoFiles';
import { datasetsIn } from '../../support/fixtures';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const DATASETS = datasetsIn(ROOT);
const LF = path.join(DATASETS, 'llamafactory-data');
const INFO_TEXT = readFileSync(path.join(LF, 'dataset_info.json'), 'utf8');
const INFO = JSON.parse(INFO_TEXT) as Record<string, Record<string, unknown>>;
const CLI = path.join(ROOT, 'dist', 'cli.js');

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A folder holding LLaMA-Factory's dataset_info.json and the JSON arrays it names that we have. */
function lfFolder(info = INFO_TEXT): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-dsinfo-'));
  writeFileSync(path.join(dir, 'dataset_info.json'), info);
  for (const f of ['kto_en_demo.json', 'mllm_demo.json']) copyFileSync(path.join(LF, f), path.join(dir, f));
  for (const f of [
    'llamafactory_dpo_en_demo.json',
    'llamafactory_glaive_toolcall_en_demo.json',
    'llamafactory_alpaca_en_demo.json',
  ])
    copyFileSync(path.join(DATASETS, 'containers', f), path.join(dir, f.replace('llamafactory_', '')));
  return dir;
}

describe('LLaMA-Factory dataset_info.json', () => {
  it('reads entries with LLaMA-Factory defaults: columns/tags given unset the others', () => {
    const { attrs, problems } = parseDatasetInfo(INFO_TEXT);
    assert.deepEqual(problems, []);
    const by = new Map(attrs.map((a) => [a.name, a]));
    const alpaca = by.get('alpaca_en_demo');
    assert.ok(alpaca);
    assert.equal(alpaca.formatting, 'alpaca');
    assert.equal(alpaca.columns.prompt, 'instruction');
    assert.equal(alpaca.columns.response, 'output');
    const kto = by.get('kto_en_demo');
    assert.ok(kto);
    assert.equal(kto.columns.kto_tag, 'label');
    assert.equal(kto.columns.prompt, null);
    assert.equal(kto.tags.role_tag, 'role');
    assert.equal(kto.tags.system_tag, null, 'tags given: system_tag unset, as in LLaMA-Factory');
    assert.equal(by.get('alpaca_en')?.loadFrom, 'hub');
  });

  it('reads kto_en_demo and mllm_demo records as LLaMA-Factory converts them', () => {
    const kto = datasetAttr('kto_en_demo', INFO.kto_en_demo);
    const recs = JSON.parse(readFileSync(path.join(LF, 'kto_en_demo.json'), 'utf8')) as Record<
      string,
      unknown
    >[];
    for (const r of recs) {
      const a = alignRecord(kto, r);
      assert.ok('sample' in a, 'skipped' in a ? a.skipped : '');
      assert.equal(a.sample.kind, 'dialogue');
      if (a.sample.kind === 'dialogue') assert.equal(a.sample.label, r.label);
    }
    const mllm = datasetAttr('mllm_demo', INFO.mllm_demo);
    const m = JSON.parse(readFileSync(path.join(LF, 'mllm_demo.json'), 'utf8')) as Record<string, unknown>[];
    const a = alignRecord(mllm, m[0]);
    assert.ok('sample' in a);
    assert.deepEqual(a.sample.meta.images, m[0].images);
    // Read with the default tags (from/value/human/gpt), the same records are skipped.
    const noTags = datasetAttr('x', {
      file_name: 'mllm_demo.json',
      formatting: 'sharegpt',
      columns: { messages: 'messages' },
    });
    const b = alignRecord(noTags, m[0]);
    assert.ok('skipped' in b);
    assert.match(
      b.skipped,
      /message 1 has role tag undefined \(from\) where "human" or "observation" is expected/,
    );
  });

  it('LLaMA-Factory own entries check clean against its files; absent files are warnings at file_name', async () => {
    const dir = lfFolder();
    const problems = await checkDatasetInfo(path.join(dir, 'dataset_info.json'));
    assert.deepEqual(
      problems.filter((p) => p.code !== 'dataset-info/missing-file'),
      [],
    );
    const missing = problems.find((p) => p.message.startsWith('entry "identity"'));
    assert.ok(missing);
    assert.equal(missing.severity, 'warning');
    const lines = INFO_TEXT.split('\n');
    assert.equal(lines[missing.line].slice(missing.startCol, missing.endCol), '"identity.json"');
  });

  it('a column the entry names but the records lack is an error at the entry', async () => {
    const info = INFO_TEXT.replace('"kto_tag": "label"', '"kto_tag": "kto_label"');
    assert.notEqual(info, INFO_TEXT);
    const dir = lfFolder(info);
    const problems = await checkDatasetInfo(path.join(dir, 'dataset_info.json'));
    const p = problems.filter((x) => x.code === 'dataset-info/missing-column');
    assert.equal(p.length, 1);
    assert.equal(p[0].severity, 'error');
    assert.match(
      p[0].message,
      /entry "kto_en_demo": column kto_tag = "kto_label" is in none of the 300 record\(s\) of kto_en_demo.json/,
    );
    const lines = info.split('\n');
    assert.equal(lines[p[0].line].slice(p[0].startCol, p[0].endCol), '"kto_label"');
    // And through the CLI, 1-based.
    const r = run('validate', path.join(dir, 'dataset_info.json'));
    assert.equal(r.code, 1);
    assert.ok(
      r.stdout.includes(
        `:${p[0].line + 1}:${p[0].startCol + 1}: error dataset-info/missing-column: entry "kto_en_demo"`,
      ),
      r.stdout,
    );
  });

  it('tags that do not fit the records: LLaMA-Factory would skip them, an error at the tags', async () => {
    const info = INFO_TEXT.replace(/("mllm_demo": \{[\s\S]*?"role_tag": )"role"/, '$1"speaker"');
    assert.notEqual(info, INFO_TEXT);
    const dir = lfFolder(info);
    const problems = await checkDatasetInfo(path.join(dir, 'dataset_info.json'));
    const p = problems.filter((x) => x.code === 'dataset-info/skipped-records');
    assert.equal(p.length, 1);
    assert.match(p[0].message, /entry "mllm_demo": LLaMA-Factory would skip 6 of 6 record\(s\)/);
    assert.equal(info.split('\n')[p[0].line].slice(p[0].startCol), '"tags": {'.slice(8));
  });

  it('finds the entry of a dataset beside its dataset_info.json', async () => {
    const dir = lfFolder();
    const e = await findEntry(path.join(dir, 'kto_en_demo.json'));
    assert.ok(e);
    assert.equal(e.attr.name, 'kto_en_demo');
    assert.equal(await findEntry(path.join(DATASETS, 'mt_bench_questions.jsonl')), undefined);
  });

  it('register writes the entry LLaMA-Factory itself has for each of its files, keeping every other byte', async () => {
    const dir = lfFolder();
    const infoPath = path.join(dir, 'dataset_info.json');
    const names: Record<string, string> = {
      'kto_en_demo.json': 'kto_en_demo',
      'mllm_demo.json': 'mllm_demo',
      'dpo_en_demo.json': 'dpo_en_demo',
      'glaive_toolcall_en_demo.json': 'glaive_toolcall_en_demo',
      'alpaca_en_demo.json': 'alpaca_en_demo',
    };
    let before = readFileSync(infoPath, 'utf8');
    for (const [file, theirs] of Object.entries(names)) {
      const r = await registerDataset(path.join(dir, file), `${theirs}_again`);
      assert.equal(r.created, false);
      const after = readFileSync(infoPath, 'utf8');
      const cut = before.lastIndexOf('}');
      const head = before.slice(0, cut).replace(/\s+$/, '');
      assert.equal(after.slice(0, head.length), head, 'the bytes before the new entry are unchanged');
      assert.equal(after.slice(head.length, head.length + 4), ',\n  ');
      assert.ok(after.endsWith('\n}\n'));
      const parsed = JSON.parse(after) as Record<string, unknown>;
      assert.deepEqual(parsed[`${theirs}_again`], { ...INFO[theirs] }, file);
      before = after;
    }
    assert.deepEqual(
      (await checkDatasetInfo(infoPath)).filter((p) => p.code !== 'dataset-info/missing-file'),
      [],
    );
    await assert.rejects(
      registerDataset(path.join(dir, 'kto_en_demo.json'), 'kto_en_demo'),
      /already has an entry "kto_en_demo"/,
    );
  });

  it('parrot register creates dataset_info.json when there is none; refuses a format it cannot describe', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-reg-'));
    const file = path.join(dir, 'chat.jsonl');
    copyFileSync(path.join(DATASETS, 'fastchat_dummy_conversation.jsonl'), file);
    const r = run('register', file);
    assert.equal(r.code, 0, r.stderr);
    const info = readFileSync(path.join(dir, 'dataset_info.json'), 'utf8');
    assert.deepEqual(JSON.parse(info), {
      chat: { file_name: 'chat.jsonl', formatting: 'sharegpt', columns: { messages: 'conversations' } },
    });
    assert.match(r.stderr, /created with entry "chat" \(sharegpt\)/);
    const v1 = path.join(dir, 'v1.jsonl');
    copyFileSync(path.join(DATASETS, 'llamafactory_v1_sft_demo.jsonl'), v1);
    const bad = run('register', '--name', 'v1', v1);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /registered in a YAML file/);
    assert.equal(
      readFileSync(path.join(dir, 'dataset_info.json'), 'utf8'),
      info,
      'unchanged after a refusal',
    );
  });

  it('insertEntry keeps CRLF files and an empty object valid', () => {
    const crlf = '{\r\n  "a": {\r\n    "file_name": "a.json"\r\n  }\r\n}\r\n';
    const out = insertEntry(crlf, 'b', { file_name: 'b.json' });
    assert.equal(
      out,
      '{\r\n  "a": {\r\n    "file_name": "a.json"\r\n  },\r\n  "b": {\r\n    "file_name": "b.json"\r\n  }\r\n}\r\n',
    );
    assert.deepEqual(JSON.parse(insertEntry('{}', 'x', { file_name: 'x.json' })), {
      x: { file_name: 'x.json' },
    });
  });
});
