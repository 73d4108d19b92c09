import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  askTemplate,
  askerSample,
  parseQuestionSelection,
  type AskerDataOptions,
} from '../../../src/core/parrot';
import type { Dialogue } from '../../../src/core/model';
import { startOpenAIServer, type TestOpenAIServer } from '../../support/openai-server';
import { datasetsIn } from '../../support/fixtures';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const DATASETS = datasetsIn(ROOT);

interface Msg {
  role: string;
  content: string;
  weight?: number;
}

function run(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

const lines = (f: string): string[] => readFileSync(f, 'utf8').trimEnd().split('\n');

/** A 4-question dialogue with a system prompt, written the OpenAI way. */
const WITH_SYSTEM = {
  messages: [
    { role: 'system', content: 'You are a terse Python tutor.' },
    { role: 'user', content: 'How do I read a CSV file in Python?' },
    { role: 'assistant', content: 'Use the csv module: csv.reader(open("f.csv")).' },
    { role: 'user', content: 'And with pandas?' },
    { role: 'assistant', content: 'pd.read_csv("f.csv").' },
    { role: 'user', content: 'How do I skip its first row?' },
    { role: 'assistant', content: 'Pass skiprows=1.' },
    { role: 'user', content: 'Does that also work for the header?' },
    { role: 'assistant', content: 'Use header=None to keep it as data.' },
  ],
};

describe('cli: asker-data (the Parrot-Ask training set)', () => {
  let server: TestOpenAIServer;
  let dir: string;
  before(function () {
    if (!existsSync(CLI)) this.skip();
  });
  beforeEach(async () => {
    server = await startOpenAIServer({ responder: () => 'What about that?' });
    dir = mkdtempSync(path.join(tmpdir(), 'parrot-askerdata-'));
  });
  afterEach(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the request parrot ask sends for question k equals the training sample up to question k', async () => {
    // Line 3 of the real FastChat file has three questions; WITH_SYSTEM adds a system prompt.
    const real = lines(path.join(DATASETS, 'fastchat_dummy_conversation.jsonl'))[2] ?? '';
    const input = path.join(dir, 'in.jsonl');
    writeFileSync(input, `${real}\n${JSON.stringify(WITH_SYSTEM)}\n`);
    const out = path.join(dir, 'asker.jsonl');
    const r = await run(['asker-data', input, '-o', out, '--format', 'openai']);
    assert.equal(r.code, 0, r.err);
    const samples = lines(out).map((l) => (JSON.parse(l) as { messages: Msg[] }).messages);
    assert.equal(samples.length, 2, 'one sample per dialogue');

    const truncations: { record: string; sample: Msg[]; k: number }[] = [];
    const realRec = JSON.parse(real) as { conversations: { from: string; value: string }[] };
    for (let k = 2; k <= 3; k++)
      truncations.push({
        record: JSON.stringify({ ...realRec, conversations: realRec.conversations.slice(0, 2 * (k - 1)) }),
        sample: samples[0] ?? [],
        k,
      });
    for (let k = 2; k <= 4; k++)
      truncations.push({
        record: JSON.stringify({ messages: WITH_SYSTEM.messages.slice(0, 1 + 2 * (k - 1)) }),
        sample: samples[1] ?? [],
        k,
      });
    for (const t of truncations) {
      const f = path.join(dir, `k${t.k}.jsonl`);
      writeFileSync(f, t.record + '\n');
      const before = server.chatRequests.length;
      const a = await run([
        'ask',
        '--base-url',
        server.baseUrl,
        '--asker-model',
        'parrot-ask',
        '--retries',
        '0',
        f,
      ]);
      assert.equal(a.code, 0, a.err);
      assert.equal(server.chatRequests.length, before + 1);
      const sent = server.chatRequests[before]?.body.messages ?? [];
      // Question k is the k-th assistant message of the reversed sample; the request is everything before it.
      const at = t.sample.findIndex(
        (m, i) =>
          m.role === 'assistant' &&
          t.sample.slice(0, i + 1).filter((x) => x.role === 'assistant').length === t.k,
      );
      assert.ok(at > 0, `question ${t.k} found`);
      assert.deepEqual(
        sent,
        t.sample.slice(0, at).map((m) => ({ role: m.role, content: m.content })),
        `question ${t.k}`,
      );
      assert.equal(t.sample[at]?.weight, 1, 'the question carries the loss');
    }
    // The seed is context (weight 0) by default; answers carry no weight key at all.
    assert.equal(samples[1]?.[0]?.role, 'system');
    assert.match(samples[1]?.[0]?.content ?? '', /You are the user[\s\S]*You are a terse Python tutor\./);
    assert.deepEqual(
      samples[1]?.map((m) => [m.role, m.weight]),
      [
        ['system', undefined],
        ['assistant', 0],
        ['user', undefined],
        ['assistant', 1],
        ['user', undefined],
        ['assistant', 1],
        ['user', undefined],
        ['assistant', 1],
      ],
      'roles reversed; the last answer (nothing to learn from) is cut',
    );
  });

  it('options: --seed, --questions, --min-questions; trl is one sample per question; skipped records are listed', async () => {
    const input = path.join(dir, 'in.jsonl');
    const pair = '{"prompt":"hi","chosen":"a","rejected":"b"}';
    writeFileSync(
      input,
      [JSON.stringify(WITH_SYSTEM), '{"messages":[{"role":"user","content":"only one"}]}', pair].join('\n') +
        '\n',
    );
    const trl = path.join(dir, 'trl.jsonl');
    const r = await run(['asker-data', input, '-o', trl, '--format', 'trl', '--seed', '--questions', '1-3']);
    assert.equal(r.code, 0, r.err);
    const t = lines(trl).map((l) => JSON.parse(l) as { prompt: Msg[]; completion: Msg[] });
    assert.deepEqual(
      t.map((x) => x.completion[0]?.content),
      ['How do I read a CSV file in Python?', 'And with pandas?', 'How do I skip its first row?'],
    );
    assert.deepEqual(
      t[0]?.prompt.map((m) => m.role),
      ['system'],
      'the seed is asked from the system prompt alone',
    );
    assert.equal(t[2]?.prompt.length, 5);
    assert.match(r.err, /in\.jsonl:2: skipped: 1 user question\(s\), fewer than the minimum 2/);
    assert.match(r.err, /in\.jsonl:3: skipped: a preference pair, not a dialogue/);
    assert.match(r.err, /1 of 2 dialogues → 3 trl samples/);

    const lf = path.join(dir, 'lf.jsonl');
    const r2 = await run([
      'asker-data',
      input,
      '-o',
      lf,
      '--format',
      'llamafactory-v1',
      '--questions',
      'last',
      '--min-questions',
      '1',
    ]);
    assert.equal(r2.code, 0, r2.err);
    const rows = lines(lf).map(
      (l) =>
        JSON.parse(l) as {
          messages: { role: string; content: { type: string; value: string }[]; loss_weight: number }[];
        },
    );
    assert.equal(rows.length, 1, 'the one-question dialogue has only its seed, which is left out');
    assert.deepEqual(
      rows[0]?.messages.map((m) => m.loss_weight),
      [0, 0, 0, 0, 0, 0, 0, 1],
    );
    assert.deepEqual(rows[0]?.messages[7]?.content, [
      { type: 'text', value: 'Does that also work for the header?' },
    ]);
    assert.equal(
      readFileSync(path.join(dir, 'dataset_info.yaml'), 'utf8'),
      '"lf":\n  path: "lf.jsonl"\n  source: local\n',
    );

    const bad = await run(['asker-data', input, '-o', lf, '--format', 'alpaca']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--format must be one of openai, llamafactory-v1, sharegpt, trl/);
  });

  it('a history the asker could not be sent is refused with its reason, never guessed', () => {
    const o: AskerDataOptions = {
      template: askTemplate('parrot-ask'),
      includeSeed: false,
      questions: parseQuestionSelection('all'),
      minQuestions: 2,
    };
    const d: Dialogue = {
      kind: 'dialogue',
      turns: [
        { role: 'user', content: 'First?' },
        { role: 'user', content: 'Second, right after?' },
        { role: 'assistant', content: 'Answer.' },
      ],
      meta: {},
    };
    const r = askerSample(d, o);
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.reason, /ends with a user question/);
    assert.throws(() => parseQuestionSelection('3-2'), /all, last, N, N-M or N-/);
    assert.deepEqual(parseQuestionSelection('2-'), { kind: 'range', from: 2 });
  });
});
