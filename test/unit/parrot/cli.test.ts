import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { askCommand } from '../../../src/cli/commands/ask';
import { batchCommand } from '../../../src/cli/commands/batch';
import { capoCommand } from '../../../src/cli/commands/capo';
import { extendCommand } from '../../../src/cli/commands/extend';
import { statsCommand } from '../../../src/cli/commands/stats';
import type { CliIO } from '../../../src/cli/io';
import { startOpenAIServer, type ChatCall, type TestOpenAIServer } from '../../support/openai-server';
import { datasetsIn } from '../../support/fixtures';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const DATASETS = datasetsIn(ROOT);

function capture(): CliIO & { out: () => string; err: () => string } {
  const o: string[] = [];
  const e: string[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (c: Buffer) => o.push(c.toString()));
  stderr.on('data', (c: Buffer) => e.push(c.toString()));
  return { stdout, stderr, isTTY: false, out: () => o.join(''), err: () => e.join('') };
}

function responder({ body, seq, choice }: ChatCall): string {
  const first = body.messages[0];
  const isAsk = first?.role === 'system' && String(first.content).includes('You are the user');
  return isAsk ? `Follow-up ${seq}.${choice}: what about that?` : `Answer ${seq}.`;
}

function head(file: string, n: number, dir: string): string {
  const out = path.join(dir, path.basename(file));
  writeFileSync(out, readFileSync(file, 'utf8').split('\n').slice(0, n).join('\n') + '\n');
  return out;
}

describe('cli: ask, extend, capo, batch', () => {
  let server: TestOpenAIServer;
  let dir: string;
  let ep: string[];
  beforeEach(async () => {
    server = await startOpenAIServer({ responder, batchStepMs: 5 });
    dir = mkdtempSync(path.join(tmpdir(), 'parrot-cli-'));
    ep = [
      '--base-url',
      server.baseUrl,
      '--asker-model',
      'parrot-ask',
      '--answer-model',
      'gpt-test',
      '--retries',
      '0',
    ];
  });
  afterEach(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--help for each command, and usage errors exit 2', async () => {
    const cmds = { ask: askCommand, extend: extendCommand, capo: capoCommand, batch: batchCommand };
    for (const [name, cmd] of Object.entries(cmds)) {
      const io = capture();
      assert.equal(await cmd(['--help'], io), 0);
      assert.ok(io.out().startsWith(`Usage: parrot ${name}`), io.out());
      assert.match(io.out(), /--base-url URL/);
    }
    const io = capture();
    assert.equal(await extendCommand(['--turns', 'x', 'f.jsonl'], io), 2);
    assert.match(io.err(), /--turns N \(a whole number >= 1\) is required/);
    const io2 = capture();
    assert.equal(await capoCommand(['--strategies', 'neglect,forget', '-o', 'o', 'f.jsonl'], io2), 2);
    assert.match(io2.err(), /unknown strategy 'forget'/);
  });

  it('ask --preview prints the exact request, roles reversed', async () => {
    const io = capture();
    const code = await askCommand(
      [...ep, '--preview', '--candidates', '4', path.join(DATASETS, 'fastchat_dummy_conversation.jsonl')],
      io,
    );
    assert.equal(code, 0, io.err());
    const body = JSON.parse(io.out()) as {
      model: string;
      n: number;
      messages: { role: string; content: string }[];
    };
    assert.equal(body.n, 4);
    assert.deepEqual(
      body.messages.map((m) => m.role),
      ['system', 'assistant', 'user', 'assistant', 'user'],
    );
    assert.equal(body.messages[1]?.content, 'Who are you?');
    assert.equal(server.requests.length, 0, 'nothing sent');
  });

  it('ask prints kept candidates', async () => {
    const io = capture();
    const code = await askCommand(
      [...ep, '--candidates', '2', '--record', '2', path.join(DATASETS, 'fastchat_dummy_conversation.jsonl')],
      io,
    );
    assert.equal(code, 0, io.err());
    assert.deepEqual(io.out().trim().split('\n'), [
      'Follow-up 0.0: what about that?',
      'Follow-up 0.1: what about that?',
    ]);
  });

  it('extend writes ShareGPT records back in their format with N user turns', async () => {
    const input = head(path.join(DATASETS, 'fastchat_dummy_conversation.jsonl'), 6, dir);
    const out = path.join(dir, 'out.jsonl');
    const io = capture();
    const code = await extendCommand([...ep, '--turns', '3', '--concurrency', '3', '-o', out, input], io);
    assert.equal(code, 0, io.err());
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    const src = readFileSync(input, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 6);
    lines.forEach((l, i) => {
      const o = JSON.parse(l) as { id: string; conversations: { from: string; value: string }[] };
      const s = JSON.parse(src[i] ?? '') as { id: string; conversations: unknown[] };
      assert.equal(o.id, s.id, 'input order kept');
      assert.ok(o.conversations.filter((c) => c.from === 'human').length >= 3);
      assert.deepEqual(
        o.conversations.slice(0, s.conversations.length),
        s.conversations,
        'original turns unchanged',
      );
    });
  });

  it('extend --estimate and refuses to overwrite without --resume', async () => {
    const input = head(path.join(DATASETS, 'fastchat_dummy_conversation.jsonl'), 4, dir);
    const io = capture();
    assert.equal(await extendCommand([...ep, '--turns', '5', '--estimate', input], io), 0);
    assert.match(io.out(), /4 record\(s\)/);
    assert.match(io.out(), /prompt token/);
    const out = path.join(dir, 'x.jsonl');
    writeFileSync(out, '');
    const io2 = capture();
    assert.equal(await extendCommand([...ep, '--turns', '2', '-o', out, input], io2), 2);
    assert.match(io2.err(), /exists — use --resume/);
  });

  it('extend MT-Bench records to 8 questions (MT-Bench++)', async () => {
    const input = head(path.join(DATASETS, 'mt_bench_questions.jsonl'), 2, dir);
    const out = path.join(dir, 'mtpp.jsonl');
    const io = capture();
    assert.equal(await extendCommand([...ep, '--turns', '8', '-o', out, input], io), 0, io.err());
    const src = readFileSync(input, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { question_id: number; category: string; turns: string[] });
    readFileSync(out, 'utf8')
      .trimEnd()
      .split('\n')
      .forEach((l, i) => {
        const o = JSON.parse(l) as { question_id: number; category: string; turns: string[] };
        assert.deepEqual(Object.keys(o), ['question_id', 'category', 'turns']);
        assert.equal(o.question_id, src[i]?.question_id);
        assert.equal(o.turns.length, 8);
        assert.deepEqual(o.turns.slice(0, 2), src[i]?.turns);
      });
  });

  it('bad input stops before any request, with file:line:column', async () => {
    const input = path.join(dir, 'bad.jsonl');
    writeFileSync(
      input,
      '{"conversations":[{"from":"human","value":"hi"},{"from":"gpt","value":"yo"}]}\n{"conversations": [}\n',
    );
    const io = capture();
    assert.equal(await extendCommand([...ep, '--turns', '2', '-o', path.join(dir, 'o.jsonl'), input], io), 2);
    assert.match(io.err(), /bad\.jsonl:2:\d+: invalid JSON/);
    assert.equal(server.requests.length, 0);
  });

  it('a rejected key gives the CLI hint and exit 1', async () => {
    server.options.requireKey = 'good';
    process.env.PARROT_TEST_KEY = 'bad';
    const io = capture();
    const code = await askCommand(
      [...ep, '--api-key-env', 'PARROT_TEST_KEY', path.join(DATASETS, 'fastchat_dummy_conversation.jsonl')],
      io,
    );
    delete process.env.PARROT_TEST_KEY;
    assert.equal(code, 1);
    assert.match(io.err(), /the key was rejected by 127\.0\.0\.1:\d+ — set OPENAI_API_KEY or --api-key-env/);
    assert.ok(!io.err().includes('bad\n'));
  });

  it('capo writes OpenAI preference lines plus a provenance sidecar in the same order', async () => {
    const input = head(path.join(DATASETS, 'mt_bench_questions.jsonl'), 3, dir);
    // Turn MT-Bench questions into answered dialogues (OpenAI messages format).
    const dlg = path.join(dir, 'dlg.jsonl');
    writeFileSync(
      dlg,
      readFileSync(input, 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => {
          const q = JSON.parse(l) as { turns: string[] };
          return JSON.stringify({
            messages: q.turns.flatMap((t, i) => [
              { role: 'user', content: t },
              { role: 'assistant', content: `Original answer ${i}` },
            ]),
          });
        })
        .join('\n') + '\n',
    );
    const out = path.join(dir, 'pairs.jsonl');
    const io = capture();
    const code = await capoCommand([...ep, '--format', 'openai-preference', '-o', out, dlg], io);
    assert.equal(code, 0, io.err());
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    const side = readFileSync(`${out}.provenance.jsonl`, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 9, '3 dependent second turns x 3 strategies');
    assert.equal(side.length, lines.length);
    for (const [i, l] of lines.entries()) {
      const o = JSON.parse(l) as Record<string, unknown>;
      assert.deepEqual(Object.keys(o).sort(), ['input', 'non_preferred_output', 'preferred_output']);
      const prov = JSON.parse(side[i] ?? '') as {
        strategy: string;
        source: { file: string; record: number; turn: number };
      };
      assert.equal(prov.source.record, Math.floor(i / 3) + 1);
      assert.equal(prov.source.turn, 4);
      assert.equal(prov.strategy, ['neglect', 'hallucinate', 'misread'][i % 3]);
    }
  });

  it('capo --judge: only turns the judge confirms get pairs; an unparseable verdict is asked again', async () => {
    await server.close();
    const asked = new Map<string, number>();
    server = await startOpenAIServer({
      models: ['parrot-ask', 'gpt-test', 'judge-x'],
      responder: ({ body }) => {
        if (body.model !== 'judge-x') return 'A context-broken answer.';
        const prompt = JSON.stringify(body.messages);
        const key = ['museums', 'Which of them', 'Make it shorter'].find((k) => prompt.includes(k)) ?? '?';
        asked.set(key, (asked.get(key) ?? 0) + 1);
        if (key === 'Which of them') return 'INDEPENDENT';
        if (key === 'Make it shorter' && asked.get(key) === 1) return 'Hard to say.';
        return 'DEPENDENT';
      },
    });
    ep[1] = server.baseUrl;
    const dlg = path.join(dir, 'judge.jsonl');
    const rec = (q1: string, q2: string) =>
      JSON.stringify({
        messages: [
          { role: 'user', content: q1 },
          { role: 'assistant', content: 'First answer.' },
          { role: 'user', content: q2 },
          { role: 'assistant', content: 'Second answer.' },
        ],
      });
    writeFileSync(
      dlg,
      [
        rec('Tell me about Paris.', 'What about its museums?'),
        rec('Name a fruit.', 'Which of them is the oldest?'),
        rec('Write a poem about the sea.', 'Make it shorter.'),
      ].join('\n') + '\n',
    );
    const est = capture();
    assert.equal(
      await capoCommand([...ep, '--judge-model', 'judge-x', '--estimate', '-o', 'x', dlg], est),
      0,
    );
    assert.match(est.out(), /3 selected turn\(s\): 3 judge request\(s\)/);
    assert.equal(server.chatRequests.length, 0, 'the estimate sends nothing');

    const out = path.join(dir, 'judged.jsonl');
    const io = capture();
    const code = await capoCommand([...ep, '--judge', '--judge-model', 'judge-x', '-o', out, dlg], io);
    assert.equal(code, 0, io.err());
    const judged = server.chatRequests.filter((r) => r.body.model === 'judge-x');
    assert.equal(judged.length, 4, 'one request per turn, one more for the unparseable verdict');
    assert.deepEqual(Object.fromEntries(asked), { museums: 1, 'Which of them': 1, 'Make it shorter': 2 });
    const records = readFileSync(out, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as { source: { record: number } }).source.record);
    assert.deepEqual(records, [1, 1, 1, 3, 3, 3], 'record 2 was judged independent: no pairs');
    assert.match(io.err(), /judge\.jsonl:2: turn 4: the judge found the question independent/);
    // No answer requests for the turn the judge kept out.
    const answers = server.chatRequests.filter((r) => r.body.model !== 'judge-x');
    assert.equal(answers.length, 6);
    assert.ok(answers.every((r) => !JSON.stringify(r.body).includes('Which of them')));
  });

  it('extend --seeds: plain lines, MT-Bench first questions and first user turns grow into new dialogues', async () => {
    const txt = path.join(dir, 'seeds.txt');
    writeFileSync(txt, 'What is a monad?\n\n  How do tides work?  \nName three prime numbers.\n');
    const out = path.join(dir, 'grown.jsonl');
    const io = capture();
    assert.equal(await extendCommand([...ep, '--turns', '2', '-o', out, txt], io), 0, io.err());
    const grown = readFileSync(out, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { conversations: { from: string; value: string }[] });
    assert.deepEqual(
      grown.map((g) => g.conversations[0]?.value),
      ['What is a monad?', 'How do tides work?', 'Name three prime numbers.'],
    );
    for (const g of grown) {
      assert.deepEqual(
        g.conversations.map((c) => c.from),
        ['human', 'gpt', 'human', 'gpt'],
        'ShareGPT, 2 answered questions',
      );
      assert.match(g.conversations[2]?.value ?? '', /^Follow-up/);
    }

    // MT-Bench questions: only the first question seeds the dialogue; --format openai.
    const mt = head(path.join(DATASETS, 'mt_bench_questions.jsonl'), 2, dir);
    const out2 = path.join(dir, 'grown-mt.jsonl');
    const io2 = capture();
    assert.equal(
      await extendCommand([...ep, '--seeds', '--format', 'openai', '--turns', '2', '-o', out2, mt], io2),
      0,
      io2.err(),
    );
    const firsts = readFileSync(mt, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as { turns: string[] }).turns[0]);
    const grown2 = readFileSync(out2, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { messages: { role: string; content: string }[] });
    assert.deepEqual(
      grown2.map((g) => g.messages[0]?.content),
      firsts,
    );
    assert.ok(grown2.every((g) => g.messages.length === 4 && g.messages[2]?.content.startsWith('Follow-up')));

    // Records of any format: the first user turn, with the record's system prompt and id.
    const sg = path.join(dir, 'sg.jsonl');
    writeFileSync(
      sg,
      JSON.stringify({
        id: 'rec-1',
        system: 'Be brief.',
        conversations: [
          { from: 'human', value: 'Seed question?' },
          { from: 'gpt', value: 'Old answer.' },
          { from: 'human', value: 'Old follow-up.' },
          { from: 'gpt', value: 'Old answer 2.' },
        ],
      }) + '\n',
    );
    const out3 = path.join(dir, 'grown-sg.jsonl');
    const io3 = capture();
    assert.equal(await extendCommand([...ep, '--seeds', '--turns', '2', '-o', out3, sg], io3), 0, io3.err());
    const g3 = JSON.parse(readFileSync(out3, 'utf8')) as {
      id: string;
      system: string;
      conversations: { value: string }[];
    };
    assert.equal(g3.id, 'rec-1');
    assert.equal(g3.system, 'Be brief.');
    assert.equal(g3.conversations[0]?.value, 'Seed question?');
    assert.ok(!JSON.stringify(g3).includes('Old'), 'nothing after the seed is kept');
    assert.equal(g3.conversations.length, 4);

    const bad = capture();
    assert.equal(await extendCommand([...ep, '--format', 'openai', '--turns', '2', '-o', 'x', sg], bad), 2);
    assert.match(bad.err(), /--format is for --seeds/);
  });

  it('capo --regenerate-chosen --format sharegpt-preference: chosen from the answer model, LLaMA-Factory entry written', async () => {
    const dlg = path.join(dir, 'regen.jsonl');
    writeFileSync(
      dlg,
      JSON.stringify({
        conversations: [
          { from: 'human', value: 'Write a haiku about rain.' },
          { from: 'gpt', value: 'Original haiku.' },
          { from: 'human', value: 'Make it shorter.' },
          { from: 'gpt', value: 'Original short haiku.' },
        ],
      }) + '\n',
    );
    const out = path.join(dir, 'regen-pairs.jsonl');
    const io = capture();
    const code = await capoCommand(
      [
        ...ep,
        '--format',
        'sharegpt-preference',
        '--regenerate-chosen',
        '--strategies',
        'neglect,misread',
        '-o',
        out,
        dlg,
      ],
      io,
    );
    assert.equal(code, 0, io.err());
    const pairs = readFileSync(out, 'utf8')
      .trimEnd()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            conversations: { value: string }[];
            chosen: { from: string; value: string };
            rejected: { value: string };
            models: { chosen: string };
          },
      );
    assert.equal(pairs.length, 2);
    // One chosen request (full context, ending with the follow-up), then one per strategy.
    const chosenReq = server.chatRequests.find((r) => {
      const m = r.body.messages;
      return (
        m.length === 3 &&
        String(m[2]?.content) === 'Make it shorter.' &&
        String(m[1]?.content) === 'Original haiku.'
      );
    });
    assert.ok(chosenReq, 'the chosen answer was asked with the full context');
    assert.equal(server.chatRequests.length, 3);
    for (const pr of pairs) {
      assert.match(pr.chosen.value, /^Answer \d+\.$/, 'chosen comes from the model');
      assert.notEqual(pr.chosen.value, 'Original short haiku.');
      assert.equal(pr.chosen.from, 'gpt');
      assert.equal(pr.models.chosen, 'gpt-test');
      assert.deepEqual(
        pr.conversations.map((c) => c.value),
        ['Write a haiku about rain.', 'Original haiku.', 'Make it shorter.'],
        'the full history is the prompt',
      );
    }
    assert.equal(pairs[0]?.chosen.value, pairs[1]?.chosen.value, 'one chosen answer per turn');
    const info = JSON.parse(readFileSync(path.join(dir, 'dataset_info.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.deepEqual(info, {
      'regen-pairs': {
        file_name: 'regen-pairs.jsonl',
        formatting: 'sharegpt',
        ranking: true,
        columns: { messages: 'conversations', chosen: 'chosen', rejected: 'rejected', system: 'system' },
      },
    });
  });

  it('stats --judge: context-dependent queries per session counted by an LLM judge', async () => {
    await server.close();
    server = await startOpenAIServer({
      models: ['parrot-ask', 'gpt-test', 'judge-x'],
      responder: ({ body }) => {
        const next =
          /<next_message>\s*([\s\S]*?)\s*<\/next_message>/.exec(String(body.messages[0]?.content))?.[1] ?? '';
        if (next.startsWith('Unclear')) return 'Perhaps.';
        return /\b(it|its)\b/i.test(next) ? 'DEPENDENT' : 'INDEPENDENT';
      },
    });
    ep[1] = server.baseUrl;
    const f = path.join(dir, 'table1.jsonl');
    const conv = (...qs: string[]) =>
      JSON.stringify({
        conversations: qs.flatMap((q) => [
          { from: 'human', value: q },
          { from: 'gpt', value: 'A.' },
        ]),
      });
    writeFileSync(
      f,
      [
        conv('Write a poem.', 'Make it shorter.'),
        conv('What is the sun?', 'Tell me about the moon.', 'And its size?'),
        conv('Only one question here.'),
        conv('Hello there.', 'Unclear one.'),
      ].join('\n') + '\n',
    );
    const io = capture();
    assert.equal(
      await statsCommand([...ep, '--judge-model', 'judge-x', '--judge-sample', '0', '--json', f], io),
      0,
      io.err(),
    );
    const t = (JSON.parse(io.out()) as { table1: { judged: Record<string, unknown> } }).table1.judged;
    assert.deepEqual(t, {
      contextDependentPerSession: 0.5,
      model: 'judge-x',
      sessions: 4,
      queries: 4,
      unreadable: 1,
      requests: 5,
    });
    assert.equal(
      server.chatRequests.length,
      5,
      'one request per later query, one retry for the unreadable verdict',
    );
  });

  it('batch export + run writes the extended records', async () => {
    const input = head(path.join(DATASETS, 'fastchat_dummy_conversation.jsonl'), 3, dir);
    const job = path.join(dir, 'job');
    const io = capture();
    assert.equal(
      await batchCommand(['export', 'extend', input, '--turns', '3', '--job', job, ...ep], io),
      0,
      io.err(),
    );
    assert.ok(existsSync(`${job}.state.json`));
    assert.ok(existsSync(`${job}.round1.requests.jsonl`));
    const out = path.join(dir, 'ext.jsonl');
    const io2 = capture();
    assert.equal(await batchCommand(['run', job, '-o', out, '--poll', '0.005', ...ep], io2), 0, io2.err());
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 3);
    for (const l of lines) {
      const o = JSON.parse(l) as { conversations: { from: string }[] };
      assert.ok(o.conversations.filter((c) => c.from === 'human').length >= 3);
    }
    const io3 = capture();
    assert.equal(await batchCommand(['status', job, ...ep], io3), 0);
    assert.match(io3.out(), /3 done, 0 active, 0 failed/);
  });

  it('batch import takes a local vllm run-batch output file', async () => {
    const input = head(path.join(DATASETS, 'fastchat_dummy_conversation.jsonl'), 2, dir);
    const job = path.join(dir, 'vj');
    assert.equal(
      await batchCommand(['export', 'extend', input, '--turns', '3', '--job', job, ...ep], capture()),
      0,
    );
    const reqs = readFileSync(`${job}.round1.requests.jsonl`, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { custom_id: string });
    const results = path.join(dir, 'results.jsonl');
    writeFileSync(
      results,
      reqs
        .map((r) =>
          JSON.stringify({
            id: 'x',
            custom_id: r.custom_id,
            response: {
              status_code: 200,
              body: {
                choices: [{ index: 0, message: { role: 'assistant', content: 'And then what happened?' } }],
              },
            },
            error: null,
          }),
        )
        .join('\n'),
    );
    const io = capture();
    assert.equal(await batchCommand(['import', job, '--results', results, ...ep], io), 0, io.err());
    assert.match(io.err(), /round 1: 2 result\(s\) imported, 0 failed/);
    assert.match(io.err(), /round 2: 2 request\(s\) in .*vj\.round2\.requests\.jsonl/);
  });

  it('SIGINT keeps finished records; --resume completes the rest without redoing them', async function () {
    if (!existsSync(CLI)) this.skip();
    server.options.latencyMs = 40;
    const input = head(path.join(DATASETS, 'fastchat_dummy_conversation.jsonl'), 30, dir);
    const out = path.join(dir, 'sig.jsonl');
    const args = [CLI, 'extend', ...ep, '--turns', '3', '--concurrency', '2', '-o', out, input];
    const first = await new Promise<{ code: number | null; err: string }>((resolve) => {
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      const t = setInterval(() => {
        if (existsSync(out) && readFileSync(out, 'utf8').split('\n').length > 4) {
          clearInterval(t);
          child.kill('SIGINT');
        }
      }, 20);
      child.on('close', (code) => {
        clearInterval(t);
        resolve({ code, err });
      });
    });
    assert.equal(first.code, 1, first.err);
    assert.match(first.err, /cancelled; run again with --resume/);
    const partial = readFileSync(out, 'utf8');
    const kept = partial.trimEnd().split('\n');
    assert.ok(kept.length >= 4 && kept.length < 30, `kept ${kept.length}`);
    const before = server.chatRequests.length;
    const second = await new Promise<{ code: number | null; err: string }>((resolve) => {
      const child = spawn(process.execPath, [...args, '--resume'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.on('close', (code) => resolve({ code, err }));
    });
    assert.equal(second.code, 0, second.err);
    const all = readFileSync(out, 'utf8').trimEnd().split('\n');
    assert.equal(all.length, 30);
    assert.ok(readFileSync(out, 'utf8').startsWith(partial), 'finished records untouched');
    const ids = all.map((l) => (JSON.parse(l) as { id: string }).id);
    const srcIds = readFileSync(input, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as { id: string }).id);
    assert.deepEqual(ids, srcIds);
    // Second run only worked on the records that were not written: at most 4 requests each here.
    assert.ok(
      server.chatRequests.length - before <= (30 - kept.length) * 4,
      `${server.chatRequests.length - before} requests`,
    );
  });
});
