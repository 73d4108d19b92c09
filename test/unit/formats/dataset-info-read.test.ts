import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { datasetAttr, parseDatasetInfo } from '../../../src/core/formats/datasetInfo';
import { entryMappingFor, mapRecord, mappingFor, unmapPointer } from '../../../src/core/formats/entryMapping';
import { fileStats } from '../../../src/core/stats/file';
import { validateFile } from '../../../src/core/validate';
import { datasetsIn } from '../../support/fixtures';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const DATASETS = datasetsIn(ROOT);
const LF_INFO = readFileSync(path.join(DATASETS, 'llamafactory-data', 'dataset_info.json'), 'utf8');
const CLI = path.join(ROOT, 'dist', 'cli.js');

type Rec = Record<string, unknown>;
type Msg = { from: string; value: string };

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const ROLE = { human: 'asker', gpt: 'bot', function_call: 'call', observation: 'result' } as const;

/** A ShareGPT record written under the entry's names (the mapping the test entry describes). */
function renamed(r: Rec): Rec {
  const conv = (r.conversations as Msg[]).map((m) => ({
    speaker: ROLE[m.from as keyof typeof ROLE] ?? m.from,
    text: m.value,
  }));
  const out: Rec = { dialog: conv };
  if (r.tools !== undefined) out.funcs = r.tools;
  if (r.system !== undefined) out.sys = r.system;
  return out;
}

const ENTRY = {
  file_name: 'tools.jsonl',
  formatting: 'sharegpt',
  columns: { messages: 'dialog', tools: 'funcs', system: 'sys' },
  tags: {
    role_tag: 'speaker',
    content_tag: 'text',
    user_tag: 'asker',
    assistant_tag: 'bot',
    function_tag: 'call',
    observation_tag: 'result',
  },
};

/**
 * LLaMA-Factory's glaive tool-call demo (300 records) with defects added (an empty answer, a
 * duplicated dialogue, a system text), written twice in a temp folder: canonically (canon.jsonl) and
 * under renamed columns, message keys and roles with a dataset_info.json entry that names them.
 */
function folder(): { dir: string; canon: string; mapped: string; records: Rec[] } {
  const records = JSON.parse(
    readFileSync(path.join(DATASETS, 'containers', 'llamafactory_glaive_toolcall_en_demo.json'), 'utf8'),
  ) as Rec[];
  (records[3].conversations as Msg[])[1].value = '';
  records[10].system = 'You are terse.';
  records.push(JSON.parse(JSON.stringify(records[7])) as Rec);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-dsinfo-read-'));
  const canon = path.join(dir, 'canon.jsonl');
  const mapped = path.join(dir, 'tools.jsonl');
  writeFileSync(canon, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  writeFileSync(mapped, records.map((r) => JSON.stringify(renamed(r))).join('\n') + '\n');
  writeFileSync(path.join(dir, 'dataset_info.json'), JSON.stringify({ tools_renamed: ENTRY }, null, 2));
  return { dir, canon, mapped, records };
}

const NAMES: [string, string][] = [
  ['"conversations"', '"dialog"'],
  ['"tools"', '"funcs"'],
  ['"system"', '"sys"'],
  ['"from"', '"speaker"'],
  ['"value"', '"text"'],
];

describe('reading files through their dataset_info.json entry', () => {
  it("LLaMA-Factory's own entries rename nothing: their files are read as they are", () => {
    const { attrs } = parseDatasetInfo(LF_INFO);
    assert.ok(attrs.length > 20);
    const local = attrs.filter((a) => a.loadFrom === 'file');
    assert.ok(local.length > 10);
    for (const a of local) assert.equal(mappingFor(a, 'dataset_info.json'), undefined, a.name);
    // A pre-training entry (prompt only) is not read as alpaca.
    assert.equal(
      mappingFor(datasetAttr('pt', { file_name: 'c.jsonl', columns: { prompt: 'text' } }), 'x'),
      undefined,
    );
  });

  it('a file beside an entry that renames nothing is validated as it is, reporting no entry', async () => {
    const lf = path.join(DATASETS, 'llamafactory-data');
    assert.equal(await entryMappingFor(path.join(lf, 'kto_en_demo.json')), undefined);
    const r = await validateFile(path.join(lf, 'kto_en_demo.json'), { workers: 0 });
    assert.equal(r.mapping, undefined);
    assert.equal(r.format, 'llamafactory-kto');
  });

  it('maps columns, message keys and role tags, and pointers back to the keys in the file', () => {
    const m = mappingFor(datasetAttr('x', ENTRY), 'dataset_info.json');
    assert.ok(m);
    const rec = { sys: 's', dialog: [{ speaker: 'asker', text: 'q' }], conversations: 'unread', extra: 1 };
    assert.deepEqual(mapRecord(rec, m), {
      system: 's',
      conversations: [{ from: 'human', value: 'q' }],
      extra: 1,
    });
    assert.equal(unmapPointer('/conversations/3/value', m), '/dialog/3/text');
    assert.equal(unmapPointer('/system', m), '/sys');
    assert.equal(unmapPointer('/extra/value', m), '/extra/value');
    assert.equal(unmapPointer('', m), '');
    // role/content entries are read as OpenAI-style messages; ranking answers are mapped too.
    const pref = mappingFor(
      datasetAttr('p', {
        file_name: 'p.json',
        formatting: 'sharegpt',
        ranking: true,
        columns: { messages: 'conv', chosen: 'good', rejected: 'bad' },
        tags: { role_tag: 'role', content_tag: 'content', user_tag: 'u', assistant_tag: 'a' },
      }),
      'dataset_info.json',
    );
    assert.ok(pref);
    assert.deepEqual(
      mapRecord({ conv: [{ role: 'u', content: 'q' }], good: { role: 'a', content: 'y' }, bad: {} }, pref),
      {
        messages: [{ role: 'user', content: 'q' }],
        chosen: { role: 'assistant', content: 'y' },
        rejected: {},
      },
    );
    assert.equal(unmapPointer('/chosen/content', pref), '/good/content');
  });

  it('parrot validate reads a renamed file through its entry: the diagnostics of the canonical file, at the keys in the file', async () => {
    const { canon, mapped } = folder();
    const want = await validateFile(canon, { workers: 0 });
    assert.equal(want.errors, 0);
    assert.ok(want.diagnostics.some((d) => d.code === 'content/empty'));
    assert.ok(want.diagnostics.some((d) => d.code === 'duplicate/dialogue'));
    const got = await validateFile(mapped, { workers: 0 });
    assert.equal(got.mapping?.entry, 'tools_renamed');
    assert.equal(got.format, 'sharegpt');
    assert.equal(got.errors, 0);
    assert.deepEqual(
      got.diagnostics.map((d) => [d.line, d.code]),
      want.diagnostics.map((d) => [d.line, d.code]),
    );
    const canonLines = readFileSync(canon, 'utf8').split('\n');
    const mappedLines = readFileSync(mapped, 'utf8').split('\n');
    for (let i = 0; i < got.diagnostics.length; i++) {
      const g = got.diagnostics[i];
      const w = want.diagnostics[i];
      const at = `${g.code} on line ${g.line}`;
      if (w.startCol === 0 && w.endCol === canonLines[w.line].length) {
        // The whole record.
        assert.deepEqual([g.startCol, g.endCol], [0, mappedLines[g.line].length], at);
        continue;
      }
      let expected = canonLines[w.line].slice(w.startCol, w.endCol);
      for (const [a, b] of NAMES) expected = expected.split(a).join(b);
      assert.equal(mappedLines[g.line].slice(g.startCol, g.endCol), expected, at);
    }
    // Without the entry the same file is records of no known format.
    const raw = await validateFile(mapped, { workers: 0, datasetInfo: false });
    assert.equal(raw.mapping, undefined);
    assert.equal(raw.errors, 301);
    assert.ok(raw.diagnostics.every((d) => d.severity !== 'error' || d.code === 'format/unknown'));
  });

  it('worker threads read through the entry too (duplicates confirmed by re-reading)', async () => {
    const { canon, mapped } = folder();
    const opts = {
      workers: 2,
      minWorkerBytes: 0,
      workerScript: path.join(ROOT, 'dist', 'validate.worker.js'),
    };
    const want = await validateFile(canon, opts);
    const got = await validateFile(mapped, opts);
    assert.equal(got.errors, 0);
    assert.deepEqual(
      got.diagnostics.map((d) => [d.line, d.code]),
      want.diagnostics.map((d) => [d.line, d.code]),
    );
    assert.ok(got.diagnostics.some((d) => d.code === 'duplicate/dialogue'));
  });

  it('parrot stats counts the turns and roles of the renamed file as of the canonical one', async () => {
    const { canon, mapped } = folder();
    const want = await fileStats(canon, undefined, { tokens: false, workers: 0 });
    const got = await fileStats(mapped, undefined, { tokens: false, workers: 0 });
    assert.deepEqual(got.datasetInfo?.entry, 'tools_renamed');
    assert.equal(got.dialogues, 301);
    assert.deepEqual(
      { ...got, datasetInfo: undefined },
      { ...want, datasetInfo: undefined },
      'every figure equal',
    );
    assert.ok((got.roles.function_call?.turns ?? 0) > 0);
    const raw = await fileStats(mapped, undefined, { tokens: false, workers: 0, datasetInfo: false });
    assert.equal(raw.dialogues, 0);
  });

  it('an alpaca entry with renamed columns, in a JSON array, found from the folder above', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parrot-dsinfo-alpaca-'));
    const alpaca = JSON.parse(
      readFileSync(path.join(DATASETS, 'containers', 'llamafactory_alpaca_en_demo.json'), 'utf8'),
    ) as { instruction: string; input: string; output: string }[];
    const rows = alpaca.slice(0, 50).map((r) => ({ q: r.instruction, ctx: r.input, a: r.output }));
    const sub = path.join(dir, 'data');
    mkdirSync(sub);
    writeFileSync(path.join(sub, 'qa.json'), JSON.stringify(rows, null, 2));
    writeFileSync(
      path.join(dir, 'dataset_info.json'),
      JSON.stringify({
        qa: { file_name: 'data/qa.json', columns: { prompt: 'q', query: 'ctx', response: 'a' } },
      }),
    );
    const m = await entryMappingFor(path.join(sub, 'qa.json'));
    assert.equal(m?.entry, 'qa');
    const got = await validateFile(path.join(sub, 'qa.json'), { workers: 0 });
    assert.equal(got.format, 'alpaca');
    assert.equal(got.errors, 0);
    const s = await fileStats(path.join(sub, 'qa.json'), undefined, { tokens: false });
    assert.equal(s.dialogues, 50);
    assert.equal(s.roles.user?.turns, 50);
    assert.equal(s.roles.assistant?.turns, 50);
    const raw = await validateFile(path.join(sub, 'qa.json'), { workers: 0, datasetInfo: false });
    assert.equal(raw.errors, 50);
  });

  it('the CLI says which entry it read through; --no-dataset-info reads the records as they are', () => {
    const { dir, mapped } = folder();
    const v = run('validate', mapped);
    assert.equal(v.code, 0, v.stderr);
    assert.ok(
      v.stderr.includes(`read through entry "tools_renamed" of ${path.join(dir, 'dataset_info.json')}`),
      v.stderr,
    );
    const off = run('validate', '--no-dataset-info', mapped);
    assert.equal(off.code, 1);
    assert.doesNotMatch(off.stderr, /read through entry/);
    assert.match(off.stdout, /format\/unknown/);
    const j = JSON.parse(run('validate', '--json', mapped).stdout) as { files: Rec[] };
    assert.deepEqual(j.files[0].datasetInfo, {
      entry: 'tools_renamed',
      file: path.join(dir, 'dataset_info.json'),
    });
    const s = run('stats', '--no-tokens', mapped);
    assert.match(s.stdout, /301 dialogue\(s\)/);
    assert.match(s.stdout, /read through entry "tools_renamed"/);
    const s2 = run('stats', '--no-tokens', '--no-dataset-info', mapped);
    assert.match(s2.stdout, /0 dialogue\(s\)/);
  });
});
