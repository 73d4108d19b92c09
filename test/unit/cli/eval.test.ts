import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseVerdict } from '../../../src/core/parrot/evaluate';
import { datasetsIn } from '../../support/fixtures';
import { startOpenAIServer, type ChatCall, type TestOpenAIServer } from '../../support/openai-server';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const DATASETS = datasetsIn(ROOT);

function runCli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

interface Question {
  question_id: number;
  category: string;
  turns: string[];
}

/** MT-Bench questions 81 (writing) and 111 (math) grown to 8 turns. */
function mtBenchPlusPlus(dir: string): { file: string; questions: Question[] } {
  const all = readFileSync(path.join(DATASETS, 'mt_bench_questions.jsonl'), 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Question & { reference?: string[] });
  const questions = all
    .filter((q) => q.question_id === 81 || q.question_id === 111)
    .map((q) => ({
      question_id: q.question_id,
      category: q.category,
      turns: [...q.turns, ...Array.from({ length: 6 }, (_, i) => `Follow-up ${i + 3} about it?`)],
    }));
  const file = path.join(dir, 'mtbench++.jsonl');
  writeFileSync(file, questions.map((q) => JSON.stringify(q)).join('\n') + '\n');
  return { file, questions };
}

/**
 * The model under test answers "A<k>: <question>"; the judge grades turn k of question 81 with k,
 * of question 111 with 10 - k. Question 111 turn 3 first gets an unparseable verdict ("8/10"), then
 * a good one; question 81 turn 5 never gets a parseable one.
 */
function responder({ body }: ChatCall): string {
  const msgs = body.messages.map((m) => String(m.content));
  if (body.model === 'judge') {
    const k = Number(/Grade the assistant's answer to turn (\d+) only/.exec(msgs[1])?.[1]);
    const is111 = msgs[1].includes('Benjamin') || msgs[1].includes('triangle');
    const tries = judgeTries.get(`${is111}:${k}`) ?? 0;
    judgeTries.set(`${is111}:${k}`, tries + 1);
    if (is111 && k === 3 && tries === 0) return 'The answer is fine. Rating: 8/10';
    if (!is111 && k === 5) return 'Good answer overall, I would say [[7]] or maybe [[8]].';
    return `Explanation of turn ${k}.\nRating: [[${is111 ? 10 - k : k}]]`;
  }
  const users = body.messages.filter((m) => m.role === 'user').length;
  return `A${users}: ${msgs[msgs.length - 1].slice(0, 30)}`;
}
const judgeTries = new Map<string, number>();

describe('cli: eval (MT-Bench++)', () => {
  let server: TestOpenAIServer;
  let dir: string;
  beforeEach(async () => {
    judgeTries.clear();
    server = await startOpenAIServer({ responder, models: ['mut', 'judge'] });
    dir = mkdtempSync(path.join(tmpdir(), 'parrot-eval-'));
  });
  afterEach(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('parses verdicts strictly', () => {
    assert.deepEqual(parseVerdict('ok\nRating: [[7]]'), { score: 7 });
    assert.deepEqual(parseVerdict('Rating: [[10]] ... [[10]]'), { score: 10 });
    assert.deepEqual(parseVerdict('[[7.5]]'), { score: 7.5 });
    for (const bad of ['Rating: 7', '[[0]]', '[[11]]', '[[seven]]', '[[7]] then [[8]]', '[7]'])
      assert.ok('error' in parseVerdict(bad), bad);
  });

  it('answers 8 turns with its own history, grades each, retries then records missing; --json; resume', async () => {
    const { file, questions } = mtBenchPlusPlus(dir);
    const refs = path.join(DATASETS, 'mt_bench_reference_answers_gpt4.jsonl');
    const out = path.join(dir, 'results.jsonl');
    const args = [
      'eval',
      file,
      '-o',
      out,
      '--model',
      'mut',
      '--judge-model',
      'judge',
      '--base-url',
      server.baseUrl,
      '--references',
      refs,
      '--retries',
      '0',
      '--concurrency',
      '2',
      '--json',
    ];
    const r = await runCli(args);
    assert.equal(r.code, 1, r.err); // one verdict missing
    const summary = JSON.parse(r.out) as {
      turns: { turn: number; mean: number | null; n: number; missing: number }[];
      categories: Record<string, { mean: number | null; n: number }>;
      overall: number | null;
      missing: number;
    };
    assert.equal(summary.turns.length, 8, r.err + r.out);
    // turn k: question 81 scored k (missing at k = 5), question 111 scored 10 - k.
    for (const t of summary.turns) {
      if (t.turn === 5) assert.deepEqual([t.mean, t.n, t.missing], [5, 1, 1]);
      else assert.deepEqual([t.mean, t.n, t.missing], [5, 2, 0]);
    }
    assert.deepEqual(summary.categories.writing, {
      mean: Math.round((31 / 7) * 1000) / 1000,
      n: 7,
      missing: 1,
    });
    assert.equal(summary.categories.math.mean, (9 + 8 + 7 + 6 + 5 + 4 + 3 + 2) / 8);
    assert.equal(summary.overall, Math.round(((36 - 5 + 44) / 15) * 1000) / 1000);
    assert.equal(summary.missing, 1);

    // Requests: 16 answers + 16 judgements + 1 retry (111 turn 3) + 2 retries (81 turn 5).
    const chats = server.chatRequests;
    assert.equal(chats.filter((c) => c.body.model === 'mut').length, 16);
    assert.equal(chats.filter((c) => c.body.model === 'judge').length, 19);
    // The model under test sees its own earlier answers: turn 8 of 81 carries 7 answers.
    const last81 = chats.find(
      (c) =>
        c.body.model === 'mut' &&
        c.body.messages.length === 15 &&
        String(c.body.messages[0].content).includes('Hawaii'),
    );
    assert.ok(last81, 'turn 8 request of question 81');
    assert.deepEqual(
      last81.body.messages.filter((m) => m.role === 'assistant').map((m) => String(m.content).slice(0, 3)),
      ['A1:', 'A2:', 'A3:', 'A4:', 'A5:', 'A6:', 'A7:'],
    );

    // Every judgement kept with its request; math gets MT-Bench's reference, writing none.
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 2);
    const res = lines.map(
      (l) =>
        JSON.parse(l) as {
          question_id: number;
          turns: {
            score: number | null;
            reference: boolean;
            judgeRequest: { messages: { content: string }[] };
            attempts: { reply: string; error?: string }[];
          }[];
        },
    );
    assert.deepEqual(
      res.map((x) => x.question_id),
      questions.map((q) => q.question_id),
    );
    const [w, m] = res;
    assert.equal(w.turns[4].score, null);
    assert.equal(w.turns[4].attempts.length, 3);
    assert.match(w.turns[4].attempts[0].error ?? '', /several verdicts/);
    assert.equal(m.turns[2].score, 7);
    assert.equal(m.turns[2].attempts.length, 2);
    assert.match(m.turns[2].attempts[0].error ?? '', /no "\[\[N\]\]" verdict/);
    const refAnswers = JSON.parse(
      readFileSync(refs, 'utf8')
        .split('\n')
        .find((l) => l.includes('"question_id": 111'))!,
    ) as {
      choices: { turns: string[] }[];
    };
    assert.equal(m.turns[0].reference, true);
    assert.ok(m.turns[0].judgeRequest.messages[1].content.includes(refAnswers.choices[0].turns[0]));
    assert.equal(m.turns[2].reference, false, 'references exist for turns 1-2 only');
    assert.equal(w.turns[0].reference, false);
    assert.ok(!w.turns[0].judgeRequest.messages[1].content.includes('reference answer'));

    // Resume: a finished file makes no request and reports the same summary.
    const before = server.chatRequests.length;
    const again = await runCli([...args, '--resume']);
    assert.equal(server.chatRequests.length, before);
    assert.deepEqual(JSON.parse(again.out), summary);
    // Resume after a torn last line redoes exactly that session.
    writeFileSync(out, lines[0] + '\n' + lines[1].slice(0, 50));
    judgeTries.clear();
    const third = await runCli([...args, '--resume']);
    assert.equal(server.chatRequests.length - before, 8 + 8 + 1, third.err);
    assert.ok(
      server.chatRequests.slice(before).every((c) => !String(c.body.messages[0].content).includes('Hawaii')),
    );
    assert.deepEqual(JSON.parse(third.out), summary);
  });

  it('--estimate counts requests and sends none; bad input exits 2 with its position', async () => {
    const { file } = mtBenchPlusPlus(dir);
    const e = await runCli([
      'eval',
      file,
      '--estimate',
      '--model',
      'm',
      '--judge-model',
      'j',
      '--base-url',
      server.baseUrl,
    ]);
    assert.equal(e.code, 0, e.err);
    assert.match(e.out, /2 session\(s\), 16 turn\(s\)\n32 request\(s\): 16 answer \(m\), 16 judge \(j\)/);
    assert.equal(server.chatRequests.length, 0);
    const bad = path.join(dir, 'bad.jsonl');
    writeFileSync(bad, readFileSync(file, 'utf8') + '{"messages":[]}\n');
    const b = await runCli([
      'eval',
      bad,
      '-o',
      path.join(dir, 'o.jsonl'),
      '--model',
      'm',
      '--judge-model',
      'j',
    ]);
    assert.equal(b.code, 2);
    assert.ok(b.err.includes(`${bad}:3:1: not an MT-Bench question`), b.err);
    const u = await runCli(['eval', file, '-o', path.join(dir, 'o.jsonl'), '--judge-model', 'j']);
    assert.equal(u.code, 2);
    assert.match(u.err, /--model NAME/);
  });
});
