import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseVerdict } from '../../../src/core/parrot/evaluate';
import { datasetsIn } from '../../support/fixtures';
import { startOpenAIServer, type ChatCall, type TestOpenAIServer } from '../../support/openai-server';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const DATASETS = datasetsIn(ROOT);

/** Runs the CLI; with `killWhen`, sends SIGKILL as soon as it is true (checked every few ms). */
function runCli(
  args: string[],
  killWhen?: () => boolean,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const poll = killWhen
      ? setInterval(() => {
          if (killWhen()) child.kill('SIGKILL');
        }, 2)
      : undefined;
    child.on('close', (code, signal) => {
      if (poll) clearInterval(poll);
      resolve({ code, signal, out, err });
    });
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

    // Resume of a finished run (its progress file removed): refused as extend does, no request.
    assert.ok(!existsSync(`${out}.progress.json`));
    const before = server.chatRequests.length;
    const again = await runCli([...args, '--resume']);
    assert.equal(again.code, 2, again.err);
    assert.match(again.err, /cannot resume: .*progress\.json is missing \(the run finished/);
    assert.equal(server.chatRequests.length, before);
    assert.equal(readFileSync(out, 'utf8').trimEnd().split('\n').length, 2, 'results untouched');

    // Killed (SIGKILL) in the middle of the second session, then resumed: each session exactly
    // once, in input order, the same scores; a resume with another judge is refused.
    rmSync(out);
    rmSync(`${out}.progress.json`, { force: true });
    judgeTries.clear();
    const serial = args.map((a, i) => (args[i - 1] === '--concurrency' ? '1' : a));
    const start = server.chatRequests.length;
    // Session 81 takes 8 answers + 10 judgements; kill during session 111.
    const killed = await runCli(serial, () => server.chatRequests.length - start >= 21);
    assert.equal(killed.signal, 'SIGKILL', killed.err);
    assert.ok(existsSync(`${out}.progress.json`));
    const otherJudge = await runCli(serial.map((a) => (a === 'judge' ? 'judge2' : a)).concat('--resume'));
    assert.equal(otherJudge.code, 2);
    assert.match(otherJudge.err, /written with judge model judge; resume it with that judge model/);
    const otherModel = await runCli(serial.map((a) => (a === 'mut' ? 'mut2' : a)).concat('--resume'));
    assert.equal(otherModel.code, 2);
    assert.match(otherModel.err, /written with model mut; resume it with that model/);
    judgeTries.clear();
    const mid = server.chatRequests.length;
    const third = await runCli([...serial, '--resume']);
    assert.equal(third.code, 1, third.err); // the same verdict still missing
    assert.match(third.err, /resuming after 1 session\(s\)/);
    assert.equal(server.chatRequests.length - mid, 8 + 8 + 1, third.err);
    assert.ok(
      server.chatRequests.slice(mid).every((c) => !String(c.body.messages[0].content).includes('Hawaii')),
    );
    assert.deepEqual(JSON.parse(third.out), summary);
    const resumed = readFileSync(out, 'utf8').trimEnd().split('\n');
    assert.deepEqual(
      resumed.map((l) => (JSON.parse(l) as { question_id: number }).question_id),
      questions.map((q) => q.question_id),
    );
    assert.ok(!existsSync(`${out}.progress.json`), 'a complete run removes its progress file');
  });

  it('a session stopped by an error is kept short, exit 1, and --resume redoes exactly it', async () => {
    const { file, questions } = mtBenchPlusPlus(dir);
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
      '--retries',
      '0',
      '--concurrency',
      '1',
      '--json',
    ];
    server.inject({ type: 'status', status: 500 }, 1); // the first answer of question 81
    const r = await runCli(args);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /2\/2 session\(s\) in .*, 1 stopped by an error/);
    const first = readFileSync(out, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { status: string });
    assert.deepEqual(
      first.map((x) => x.status),
      ['failed', 'done'],
    );
    assert.ok(existsSync(`${out}.progress.json`), 'a short session keeps the run resumable');
    judgeTries.clear();
    const before = server.chatRequests.length;
    const again = await runCli([...args, '--resume']);
    assert.equal(again.code, 1, again.err); // question 81 turn 5 has no parseable verdict
    assert.match(again.err, /redoing 1 stopped by an error/);
    const redone = server.chatRequests.slice(before);
    assert.equal(redone.length, 8 + 8 + 2);
    assert.ok(redone.every((c) => !String(c.body.messages[0].content).includes('triangle')));
    const lines = readFileSync(out, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      lines.map((x) => [x.question_id, x.status]),
      questions.map((q) => [q.question_id, 'done']),
    );
    assert.equal((JSON.parse(again.out) as { failed: number }).failed, 0);
    assert.ok(!existsSync(`${out}.progress.json`));
  });

  it('--batch: in rounds through /v1/files and /v1/batches, the same requests, results and scores as live; killed and resumed', async () => {
    const { file } = mtBenchPlusPlus(dir);
    const refs = path.join(DATASETS, 'mt_bench_reference_answers_gpt4.jsonl');
    const common = ['--model', 'mut', '--judge-model', 'judge', '--base-url', server.baseUrl];
    const rest = ['--references', refs, '--retries', '0', '--json'];
    const liveOut = path.join(dir, 'live.jsonl');
    const live = await runCli(['eval', file, '-o', liveOut, ...common, ...rest]);
    assert.equal(live.code, 1, live.err); // one verdict missing
    /** A chat body as the server received it, without the transport's `stream` flag. */
    const norm = (b: Record<string, unknown>): string => {
      const { stream: _stream, ...o } = b;
      return JSON.stringify(o);
    };
    const liveBodies = server.chatRequests.map((c) => norm(c.body)).sort();
    assert.equal(liveBodies.length, 16 + 19);
    server.reset();
    judgeTries.clear();

    const out = path.join(dir, 'batch.jsonl');
    const job = path.join(dir, 'evaljob');
    const args = ['eval', file, '-o', out, ...common, ...rest, '--batch', '--job', job, '--poll', '0.005'];
    // Killed once round 3 is out; the state has rounds 1-2 imported.
    const killed = await runCli(args, () => server.batches.size >= 3);
    assert.equal(killed.signal, 'SIGKILL', killed.err);
    assert.ok(!existsSync(out), 'no results before the job is finished');
    assert.equal(server.chatRequests.length, 0, 'no live request');
    const again = await runCli(args);
    assert.equal(again.code, 2, 'an existing job is continued only with --resume');
    assert.match(again.err, /evaljob\.state\.json exists — use --resume/);
    const resumed = await runCli([...args, '--resume']);
    assert.equal(resumed.code, 1, resumed.err); // the same verdict missing

    // Everything went through the Batch API: files uploaded with purpose batch, one batch per round.
    assert.equal(server.chatRequests.length, 0, 'no live request');
    assert.ok(server.requests.some((r) => r.method === 'POST' && r.path === '/v1/files'));
    const uploads = [...server.files.values()].filter((f) => f.purpose === 'batch');
    assert.ok(uploads.length >= 9 && uploads.length <= 11, `${uploads.length} uploads`);
    // Round 1 holds every session's first answer and nothing else; round 2 the second answers and
    // the grades of turn 1.
    const round = (k: number): string[] =>
      server.batchRequests
        .filter((r) => r.customId.includes(`/s${k}/`))
        .map((r) => r.customId.replace(/^[^/]+\//, ''))
        .sort();
    assert.deepEqual(round(1), ['r1/s1/answer@t1', 'r2/s1/answer@t1']);
    assert.deepEqual(round(2), [
      'r1/s2/answer@t2',
      'r1/s2/judge@t1.a1',
      'r2/s2/answer@t2',
      'r2/s2/judge@t1.a1',
    ]);
    // Rounds imported before the kill were never requested again.
    for (const k of [1, 2]) assert.equal(new Set(round(k)).size, round(k).length);

    // The same requests as the live run (a round resent after the kill counted once) ...
    const seen = new Map<string, string>();
    for (const r of server.batchRequests) seen.set(r.customId, norm(r.body));
    assert.deepEqual([...seen.values()].sort(), liveBodies);
    // ... the same result lines, byte for byte, and the same summary.
    assert.equal(readFileSync(out, 'utf8'), readFileSync(liveOut, 'utf8'));
    assert.deepEqual(JSON.parse(resumed.out), JSON.parse(live.out));

    // The job is a 'parrot batch' job too: its status names it.
    const st = await runCli(['batch', 'status', job, '--base-url', server.baseUrl]);
    assert.equal(st.code, 0, st.err);
    assert.match(st.out, /\(eval\)/);
    assert.match(st.out, /sessions: 2 done, 0 active, 0 failed; 16 turn\(s\) answered/);
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
