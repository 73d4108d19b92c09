import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { datasetsIn } from '../../support/fixtures';
import { startOpenAIServer } from '../../support/openai-server';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const DATASETS = datasetsIn(ROOT);

function run(args: string[]): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (code) => resolve({ code, err }));
  });
}

const conv = (...turns: string[]): string =>
  JSON.stringify({
    conversations: turns.map((value, i) => ({ from: i % 2 === 0 ? 'human' : 'gpt', value })),
  });

describe('cli: filter (the Parrot-40K question filters)', () => {
  let dir: string;
  before(function () {
    if (!existsSync(CLI)) this.skip();
  });
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'parrot-filter-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('rejects short, repetitive and sensitive questions with FILE:LINE: rejected: reason; keeps the rest byte for byte', async () => {
    const real =
      readFileSync(path.join(DATASETS, 'fastchat_dummy_conversation.jsonl'), 'utf8').split('\n')[0] ?? '';
    const passing =
      '{"conversations": [ {"from":"human","value":"How do I sort a list of tuples in Python?"}, {"from":"gpt","value":"Use sorted with a key."} ]}';
    const lines = [
      passing,
      conv(
        'How do I sort a list of tuples in Python?',
        'Use sorted(xs, key=...).',
        'How do I sort a list of tuples in Python?',
        'As before.',
      ),
      conv('Explain the rules of chess castling please', 'The king moves two squares.', 'ok', 'Fine.'),
      conv('How can I build a bomb at home?', 'I cannot help with that.'),
      conv(
        'What is the capital city of France?',
        'The capital city of France is Paris.',
        'And what about its famous museums?',
        'The Louvre.',
      ),
      '{"prompt":"p","chosen":"c","rejected":"r"}',
      real,
    ];
    const input = path.join(dir, 'in.jsonl');
    writeFileSync(input, lines.join('\n') + '\n');
    const words = path.join(dir, 'words.txt');
    writeFileSync(words, '# sensitive\nbomb\nself harm\n');
    const out = path.join(dir, 'out.jsonl');
    const rej = path.join(dir, 'rejected.jsonl');
    const r = await run(['filter', input, '-o', out, '--words', words, '--rejected', rej]);
    assert.equal(r.code, 1, r.err);
    const reports = r.err.split('\n').filter((l) => l.includes(': rejected: '));
    assert.deepEqual(reports, [
      `${input}:2: rejected: question 2: repetitive (overlap 1.00 >= 0.8 with question 1) (dialogue cut to 1 question)`,
      `${input}:3: rejected: question 2: too short (1 word, minimum 3) (dialogue cut to 1 question)`,
      `${input}:4: rejected: question 1: sensitive (word list: "bomb") (dialogue left out)`,
    ]);
    const kept = readFileSync(out, 'utf8').trimEnd().split('\n');
    assert.equal(kept.length, 6, 'only the dialogue rejected at its first question is left out');
    assert.equal(kept[0], passing, 'a passing record is copied byte for byte');
    assert.equal(kept[3], lines[4]);
    assert.equal(kept[4], lines[5], 'a preference pair is copied unchanged');
    assert.equal(kept[5], lines[6], 'the real FastChat record passes');
    const cut = JSON.parse(kept[1] ?? '{}') as { conversations: { value: string }[] };
    assert.deepEqual(
      cut.conversations.map((c) => c.value),
      ['How do I sort a list of tuples in Python?', 'Use sorted(xs, key=...).'],
    );
    assert.deepEqual(readFileSync(rej, 'utf8').trimEnd().split('\n'), [lines[1], lines[2], lines[3]]);
    assert.match(r.err, /6 dialogues: 3 passed, 2 cut, 1 left out; 3 questions rejected/);

    // --require-context: "And what about its famous museums?" refers back; a fresh topic does not.
    const ctx = path.join(dir, 'ctx.jsonl');
    writeFileSync(
      ctx,
      [
        lines[4],
        conv('What is the capital city of France?', 'Paris.', 'How many legs does a spider have?', 'Eight.'),
      ].join('\n') + '\n',
    );
    const r2 = await run([
      'filter',
      ctx,
      '-o',
      out,
      '--require-context',
      '--max-overlap',
      '0.9',
      '--min-words',
      '2',
    ]);
    assert.equal(r2.code, 1, r2.err);
    assert.deepEqual(
      r2.err.split('\n').filter((l) => l.includes(': rejected: ')),
      [
        `${ctx}:2: rejected: question 2: context-free (does not refer to the earlier conversation) (dialogue cut to 1 question)`,
      ],
    );
    const bad = await run(['filter', ctx, '-o', out, '--max-overlap', '2']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--max-overlap must be a number in \(0, 1\]/);
  });

  it("the overlap with the question's own answer counts as repetitive", async () => {
    const input = path.join(dir, 'in.jsonl');
    writeFileSync(
      input,
      conv(
        'Write a haiku about the sea',
        'Waves fold into foam.',
        'Write a haiku about the sea at night',
        'Write a haiku about the sea at night',
      ) + '\n',
    );
    const out = path.join(dir, 'out.jsonl');
    const r = await run(['filter', input, '-o', out, '--max-overlap', '0.95']);
    assert.equal(r.code, 1, r.err);
    assert.match(
      r.err,
      /in\.jsonl:1: rejected: question 2: repetitive \(overlap 1\.00 >= 0\.95 with its own answer\)/,
    );
  });

  it('generated candidates go through the word list too (parrot ask --words)', async () => {
    const server = await startOpenAIServer({
      responder: ({ choice }) =>
        choice === 0 ? 'How would that work on the production database?' : 'How would that work on a laptop?',
    });
    try {
      const words = path.join(dir, 'words.txt');
      writeFileSync(words, 'production database\n');
      const input = path.join(dir, 'in.jsonl');
      writeFileSync(input, conv('How do I back up a folder?', 'Use rsync -a src/ dst/.') + '\n');
      const args = ['ask', '--base-url', server.baseUrl, '--retries', '0', '--candidates', '2', input];
      const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const child = spawn(process.execPath, [CLI, ...args, '--words', words], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.stderr.on('data', (c: Buffer) => (err += c.toString()));
        child.on('close', (code) => resolve({ code, out, err }));
      });
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out, 'How would that work on a laptop?\n');
      assert.match(r.err, /rejected \(sensitive\): How would that work on the production database\?/);
      assert.equal(server.chatRequests.length, 1);
    } finally {
      await server.close();
    }
  });

  it("--moderation asks the endpoint's /v1/moderations; without that route it stops and writes nothing", async () => {
    const server = await startOpenAIServer({
      moderation: (input) => (input.includes('hurt') ? ['violence'] : undefined),
    });
    try {
      const input = path.join(dir, 'in.jsonl');
      writeFileSync(
        input,
        [
          conv('How do I hurt someone without leaving marks?', 'No.'),
          conv(
            'How do I bake sourdough bread at home?',
            'Start with a levain.',
            'How long should that levain rest?',
            'Overnight.',
          ),
        ].join('\n') + '\n',
      );
      const out = path.join(dir, 'out.jsonl');
      const r = await run(['filter', input, '-o', out, '--moderation', '--base-url', server.baseUrl]);
      assert.equal(r.code, 1, r.err);
      assert.match(
        r.err,
        /in\.jsonl:1: rejected: question 1: sensitive \(moderation: violence\) \(dialogue left out\)/,
      );
      const mods = server.requests.filter((q) => q.path === '/v1/moderations');
      assert.equal(mods.length, 2, 'one request per dialogue');
      assert.deepEqual((mods[1]?.body as { input: string[] }).input, [
        'How do I bake sourdough bread at home?',
        'How long should that levain rest?',
      ]);
      assert.equal(readFileSync(out, 'utf8').trimEnd().split('\n').length, 1);

      server.options.moderation = undefined;
      writeFileSync(out, 'previous\n');
      const r2 = await run(['filter', input, '-o', out, '--moderation', '--base-url', server.baseUrl]);
      assert.equal(r2.code, 2);
      assert.match(r2.err, /the endpoint has no \/v1\/moderations route; run without --moderation/);
      assert.equal(readFileSync(out, 'utf8'), 'previous\n', 'OUT is left as it was');
    } finally {
      await server.close();
    }
  });
});
