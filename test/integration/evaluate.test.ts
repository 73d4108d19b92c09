// Parrot: Evaluate on MT-Bench++… inside the real VS Code extension host, against the loopback
// OpenAI-compatible server: real MT-Bench questions grown to 8 turns, a judge that replies in the
// `[[N]]` form (one unparseable verdict), the results file, the summary and the results view.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EvalSummary } from '../../src/core/parrot';
import type { ChatCall, TestOpenAIServer } from '../support/openai-server';
import { datasetsIn } from '../support/fixtures';
import { ANSWERER, ASKER, setSetting, startLoopback, stopLoopback, writeLines } from './support/llm';

const SETTINGS = [
  'parrot.endpoint.baseUrl',
  'parrot.models.asker',
  'parrot.models.answerer',
  'parrot.generation.concurrency',
];
const JUDGE = ASKER;

/** The judge grades turn k with k; turn 2 of every session first gets "8/10" (no [[N]]). */
function responder({ body }: ChatCall): string {
  onRequest?.();
  const msgs = body.messages.map((m) => String(m.content));
  if (body.model === JUDGE) {
    const k = Number(/Grade the assistant's answer to turn (\d+) only/.exec(msgs[1])?.[1]);
    const key = `${msgs[1].slice(0, 200)}:${k}`;
    const n = tries.get(key) ?? 0;
    tries.set(key, n + 1);
    return k === 2 && n === 0 ? 'Fine. Rating: 8/10' : `Reasons.\nRating: [[${k}]]`;
  }
  return `Answer to turn ${body.messages.filter((m) => m.role === 'user').length}.`;
}
const tries = new Map<string, number>();
/** Called on every chat request (a test cancels the run from it). */
let onRequest: (() => void) | undefined;

describe('Evaluate on MT-Bench++ (loopback OpenAI-compatible server)', function () {
  this.timeout(90_000);
  let server: TestOpenAIServer;
  let dir: string;

  before(async () => {
    ({ server, dir } = await startLoopback(responder, 'eval-tests', {}));
  });
  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await stopLoopback(server, SETTINGS);
  });

  /** The first 3 MT-Bench questions grown to 8 turns. */
  function questionsFile(name: string): vscode.Uri {
    const root = path.resolve(__dirname, '..', '..', '..');
    const src = fs
      .readFileSync(path.join(datasetsIn(root), 'mt_bench_questions.jsonl'), 'utf8')
      .trimEnd()
      .split('\n')
      .slice(0, 3)
      .map((l) => {
        const q = JSON.parse(l) as { turns: string[] };
        q.turns = [...q.turns, ...Array.from({ length: 6 }, (_, i) => `And what about point ${i + 3}?`)];
        return JSON.stringify(q);
      });
    return writeLines(dir, name, src);
  }

  it('scores every turn of 3 sessions, retries the unparseable verdict, writes results and shows the view', async () => {
    const uri = questionsFile('mtbench++.jsonl');
    const output = uri.fsPath.replace(/\.jsonl$/, '.results.jsonl');
    const r = await vscode.commands.executeCommand<{
      status: string;
      summary?: EvalSummary;
      html?: string;
      output?: string;
    }>('parrot.evaluateMtBench', {
      uri,
      model: ANSWERER,
      judgeModel: JUDGE,
      output,
      mode: 'live',
      confirm: false,
    });
    assert.ok(r, 'command returned nothing');
    assert.equal(r.status, 'ok');
    const s = r.summary;
    assert.ok(s);
    assert.deepEqual(
      s.turns.map((t) => [t.turn, t.mean, t.n, t.missing]),
      [1, 2, 3, 4, 5, 6, 7, 8].map((k) => [k, k, 3, 0]),
    );
    assert.equal(s.overall, 4.5);
    assert.equal(server.chatRequests.filter((c) => c.body.model === ANSWERER).length, 24);
    assert.equal(server.chatRequests.filter((c) => c.body.model === JUDGE).length, 24 + 3);
    const lines = fs.readFileSync(output, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 3);
    const first = JSON.parse(lines[0]) as { turns: { attempts: { error?: string }[] }[] };
    assert.match(first.turns[1].attempts[0].error ?? '', /no "\[\[N\]\]" verdict/);
    // The results view: a table per turn and a chart, strict CSP, no script.
    const html = r.html ?? '';
    assert.match(html, /Content-Security-Policy" content="default-src 'none'; style-src 'nonce-/);
    assert.ok(!/<script/i.test(html));
    assert.equal((html.match(/<rect /g) ?? []).length, 8);
    assert.match(html, /<tr><th scope="row">8<\/th><td>8\.00<\/td><td>3<\/td><td>0<\/td><\/tr>/);
  });

  it('cancelled mid-run keeps the finished sessions; Resume does the rest once, in order; a finished run is not resumed', async () => {
    const uri = questionsFile('mtbench++-resume.jsonl');
    const output = uri.fsPath.replace(/\.jsonl$/, '.results.jsonl');
    const ids = fs
      .readFileSync(uri.fsPath, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as { question_id: number }).question_id);
    // Workspace level (cleared with the suite's other settings): a user-level value would outlive it.
    await setSetting('parrot.generation.concurrency', 1);
    type Result = { status: string; summary?: EvalSummary; message?: string };
    tries.clear();
    server.reset();
    const cts = new vscode.CancellationTokenSource();
    // A session takes 8 answers + 9 judgements: cancel during the second one.
    onRequest = () => {
      if (server.chatRequests.length >= 20) cts.cancel();
    };
    let first: Result;
    try {
      first = await vscode.commands.executeCommand<Result>('parrot.evaluateMtBench', {
        mode: 'live',
        uri,
        model: ANSWERER,
        judgeModel: JUDGE,
        output,
        existing: 'overwrite',
        confirm: false,
        token: cts.token,
      });
    } finally {
      onRequest = undefined;
      cts.dispose();
    }
    assert.equal(first.status, 'cancelled', first.message);
    const kept = fs.readFileSync(output, 'utf8').trimEnd().split('\n');
    assert.deepEqual(
      kept.map((l) => (JSON.parse(l) as { question_id: number }).question_id),
      ids.slice(0, 1),
      'the finished session is kept, the cancelled one not written',
    );
    const resumeWith = (judgeModel: string): Thenable<Result> =>
      vscode.commands.executeCommand<Result>('parrot.evaluateMtBench', {
        mode: 'live',
        uri,
        model: ANSWERER,
        judgeModel,
        output,
        existing: 'resume',
        confirm: false,
      });
    const progress = JSON.parse(fs.readFileSync(`${output}.progress.json`, 'utf8')) as { records: number };
    assert.equal(progress.records, 1);

    // Another judge may not continue these scores.
    const other = await resumeWith(ANSWERER);
    assert.equal(other.status, 'error');
    assert.match(other.message ?? '', /written with judge model/);

    tries.clear();
    server.reset();
    const second = await resumeWith(JUDGE);
    assert.equal(second.status, 'ok', second.message);
    assert.equal(
      server.chatRequests.filter((c) => c.body.model === ANSWERER).length,
      16,
      'sessions 2-3 only',
    );
    const lines = fs.readFileSync(output, 'utf8').trimEnd().split('\n');
    assert.equal(lines[0], kept[0], 'the finished session is untouched');
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as { question_id: number }).question_id),
      ids,
    );
    assert.equal(second.summary?.overall, 4.5);
    assert.equal(second.summary?.sessions, 3);
    assert.ok(!fs.existsSync(`${output}.progress.json`), 'a complete run removes its progress file');

    // A finished run has nothing to resume: an error, no request, the results untouched.
    server.reset();
    const third = await resumeWith(JUDGE);
    assert.equal(third.status, 'error');
    assert.match(third.message ?? '', /cannot resume: .*the run finished/);
    assert.equal(server.chatRequests.length, 0);
    assert.deepEqual(fs.readFileSync(output, 'utf8').trimEnd().split('\n'), lines);
  });
  it('Batch: one batch per turn through /v1/files and /v1/batches, the same results and scores as Live; cancel and Resume', async () => {
    type Result = { status: string; summary?: EvalSummary; html?: string; output?: string; message?: string };
    const uri = questionsFile('mtbench++-batch.jsonl');
    const liveOut = uri.fsPath.replace(/\.jsonl$/, '.live.jsonl');
    const batchOut = uri.fsPath.replace(/\.jsonl$/, '.batch-results.jsonl');
    const norm = (b: Record<string, unknown>): string => {
      const { stream: _stream, ...o } = b;
      return JSON.stringify(o);
    };
    tries.clear();
    server.reset();
    const live = await vscode.commands.executeCommand<Result>('parrot.evaluateMtBench', {
      uri,
      model: ANSWERER,
      judgeModel: JUDGE,
      output: liveOut,
      mode: 'live',
      confirm: false,
    });
    assert.equal(live?.status, 'ok', live?.message);
    const liveBodies = server.chatRequests.map((c) => norm(c.body)).sort();
    assert.equal(liveBodies.length, 24 + 24 + 3);

    // Cancelled once round 2 is submitted: the job state stays, no results file yet.
    tries.clear();
    server.reset();
    const cts = new vscode.CancellationTokenSource();
    onRequest = () => {
      if (server.batches.size >= 2) cts.cancel();
    };
    const run = (token?: vscode.CancellationToken): Thenable<Result | undefined> =>
      vscode.commands.executeCommand<Result>('parrot.evaluateMtBench', {
        uri,
        model: ANSWERER,
        judgeModel: JUDGE,
        output: batchOut,
        mode: 'batch',
        existing: 'resume',
        pollSeconds: 0.02,
        confirm: false,
        token,
      });
    const first = await run(cts.token);
    onRequest = undefined;
    assert.equal(first?.status, 'cancelled', first?.message);
    assert.ok(fs.existsSync(batchOut.replace(/\.jsonl$/, '.batch.state.json')), 'the job is kept');
    assert.ok(!fs.existsSync(batchOut));
    const r = await run();
    assert.equal(r?.status, 'ok', r?.message);
    assert.equal(server.chatRequests.length, 0, 'no live request in batch mode');
    // 8 answer rounds, the grades of turn 8 in round 9, the retried verdicts of turn 2 in round 4.
    assert.equal(server.batches.size, 9);
    const seen = new Map<string, string>();
    for (const b of server.batchRequests) seen.set(b.customId, norm(b.body));
    assert.deepEqual([...seen.values()].sort(), liveBodies, 'the requests of the live run');
    assert.equal(
      fs.readFileSync(batchOut, 'utf8'),
      fs.readFileSync(liveOut, 'utf8'),
      'the same result lines',
    );
    assert.deepEqual(r?.summary, live?.summary);
    assert.equal(r?.summary?.overall, 4.5);
    assert.equal((r?.html?.match(/<rect /g) ?? []).length, 8);
  });
});
