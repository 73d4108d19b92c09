// The generation commands read a file through the dataset_info.json entry that renames its columns,
// message keys and role tags (llamafactory-renamed/glaive_renamed.jsonl, LLaMA-Factory's glaive
// tool-call demo under other names): extend grows its dialogues and writes them under the file's
// own names; filter and asker-data see the dialogues the canonical records are.
import * as assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { askerDataCommand } from '../../../src/cli/commands/askerData';
import { extendCommand } from '../../../src/cli/commands/extend';
import { filterCommand } from '../../../src/cli/commands/filter';
import type { CliIO } from '../../../src/cli/io';
import { startOpenAIServer, type ChatCall, type TestOpenAIServer } from '../../support/openai-server';
import { datasetsIn } from '../../support/fixtures';

const DATASETS = datasetsIn(path.resolve(__dirname, '..', '..', '..', '..'));
const RENAMED = path.join(DATASETS, 'llamafactory-renamed');

function capture(): CliIO & { out: () => string; err: () => string } {
  const o: string[] = [];
  const e: string[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (c: Buffer) => o.push(c.toString()));
  stderr.on('data', (c: Buffer) => e.push(c.toString()));
  return { stdout, stderr, isTTY: false, out: () => o.join(''), err: () => e.join('') };
}

function responder({ body, seq }: ChatCall): string {
  const first = body.messages[0];
  const isAsk = first?.role === 'system' && String(first.content).includes('You are the user');
  return isAsk ? `Follow-up ${seq}: and what about that one?` : `Answer ${seq}.`;
}

type Msg = { speaker: string; text: string };
const lines = (file: string): string[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');

describe('generation commands through a dataset_info.json entry', function () {
  this.timeout(60_000);
  let dir = '';
  let renamed = '';
  let canonical = '';
  let server: TestOpenAIServer;

  beforeEach(async () => {
    server = await startOpenAIServer({ responder });
    dir = mkdtempSync(path.join(tmpdir(), 'parrot-dsinfo-gen-'));
    // The first 8 records of the renamed file, beside its dataset_info.json.
    renamed = path.join(dir, 'glaive_renamed.jsonl');
    writeFileSync(renamed, lines(path.join(RENAMED, 'glaive_renamed.jsonl')).slice(0, 8).join('\n') + '\n');
    copyFileSync(path.join(RENAMED, 'dataset_info.json'), path.join(dir, 'dataset_info.json'));
    // The same records as published (canonical names), in a folder with no entry.
    canonical = path.join(mkdtempSync(path.join(dir, 'canon-')), 'glaive.jsonl');
    const published = JSON.parse(
      readFileSync(path.join(DATASETS, 'containers', 'llamafactory_glaive_toolcall_en_demo.json'), 'utf8'),
    ) as unknown[];
    writeFileSync(
      canonical,
      published
        .slice(0, 8)
        .map((r) => JSON.stringify(r) + '\n')
        .join(''),
    );
  });
  afterEach(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const ep = (): string[] => [
    '--base-url',
    server.baseUrl,
    '--asker-model',
    'parrot-ask',
    '--answer-model',
    'gpt-test',
    '--retries',
    '0',
  ];

  it("extend grows the dialogues and writes them under the file's own keys and role tags", async () => {
    const out = path.join(dir, 'out.jsonl');
    const io = capture();
    assert.equal(await extendCommand([...ep(), '--turns', '5', '-o', out, renamed], io), 0, io.err());
    const src = lines(renamed).map((l) => JSON.parse(l) as { dialog: Msg[]; funcs: string });
    const got = lines(out).map((l) => JSON.parse(l) as { dialog: Msg[]; funcs: string });
    assert.equal(got.length, src.length);
    got.forEach((o, i) => {
      assert.deepEqual(Object.keys(o), ['dialog', 'funcs']);
      assert.equal(o.funcs, src[i].funcs);
      assert.deepEqual(o.dialog.slice(0, src[i].dialog.length), src[i].dialog, 'original turns unchanged');
      const added = o.dialog.slice(src[i].dialog.length);

      for (const m of added) {
        assert.deepEqual(Object.keys(m), ['speaker', 'text']);
        assert.ok(m.speaker === 'asker' || m.speaker === 'bot', m.speaker);
      }
      const asked = (d: Msg[]): number => d.filter((m) => m.speaker === 'asker').length;
      assert.equal(asked(o.dialog), Math.max(5, asked(src[i].dialog)), `record ${i + 1}`);
    });
    assert.ok(
      got.some((o, i) => o.dialog.length > src[i].dialog.length + 4),
      'dialogues grew',
    );
    // Without the entry the records are of no known format: nothing is sent.
    const io2 = capture();
    const calls = server.requests.length;
    assert.equal(
      await extendCommand(
        [...ep(), '--turns', '5', '--no-dataset-info', '-o', path.join(dir, 'o2.jsonl'), renamed],
        io2,
      ),
      2,
    );
    assert.match(io2.err(), /glaive_renamed\.jsonl:1:1: no known dataset format/);
    assert.equal(server.requests.length, calls);
  });

  it('filter and asker-data see the dialogues the canonical records are', async () => {
    const f = (file: string, out: string): Promise<number> =>
      filterCommand(['--min-words', '9', '-o', out, file], capture());
    const fr = path.join(dir, 'f-renamed.jsonl');
    const fc = path.join(dir, 'f-canon.jsonl');
    await f(renamed, fr);
    await f(canonical, fc);
    const kr = lines(fr);
    const kc = lines(fc);
    assert.equal(kr.length, kc.length);
    assert.ok(kr.length > 0 && kr.length < 8, `${kr.length} dialogues kept`);
    // Kept or cut, each dialogue is the canonical one under the file's names.
    kr.forEach((l, i) => {
      const r = JSON.parse(l) as { dialog: Msg[] };
      const c = JSON.parse(kc[i]) as { conversations: { from: string; value: string }[] };
      assert.deepEqual(
        r.dialog.map((m) => m.text),
        c.conversations.map((m) => m.value),
      );
    });

    const ar = path.join(dir, 'a-renamed.jsonl');
    const ac = path.join(dir, 'a-canon.jsonl');
    const io = capture();
    assert.equal(await askerDataCommand(['-o', ar, renamed], io), 0, io.err());
    assert.equal(await askerDataCommand(['-o', ac, canonical], capture()), 0);
    assert.ok(lines(ar).length > 0);
    assert.equal(readFileSync(ar, 'utf8'), readFileSync(ac, 'utf8'));
  });
});
