// Steering the CaPO flows inside the real VS Code extension host, against the loopback
// OpenAI-compatible server: Build CaPO Preference Set estimates before it spends requests, says why
// when there is nothing to pair (and writes no file), continues a run whose requests failed, and
// reports requests in flight, tokens and elapsed time while it runs; Preview Generation Request
// covers each CaPO strategy and the judge in a read-only document; a kept pair built from unsaved
// turns says so.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { buildJudgeRequest, loadTemplate } from '../../src/core/parrot';
import type { ParrotApi } from '../../src/extension/extension';
import type { HostMessage } from '../../src/protocol';
import { BAKERY_TURNS } from '../support/dialogues';
import type { ChatBody, ChatCall, TestOpenAIServer } from '../support/openai-server';
import {
  ANSWERER,
  run,
  setSetting as set,
  sharegpt,
  startLoopback,
  stopLoopback,
  writeLines,
  type Result,
} from './support/llm';
import { waitForPost } from './support/webview';

const SETTINGS = [
  'parrot.endpoint.baseUrl',
  'parrot.models.asker',
  'parrot.models.answerer',
  'parrot.generation.concurrency',
  'parrot.capo.outputFile',
  'parrot.capo.judgeModel',
  'parrot.capo.regenerateChosen',
];

let api: ParrotApi;
let server: TestOpenAIServer;
let dir: string;

function responder(call: ChatCall): string {
  const prompt = JSON.stringify(call.body.messages);
  // The context judge (its template asks for one word): record 2's follow-up is called independent.
  if (prompt.includes('DEPENDENT') && prompt.includes('INDEPENDENT'))
    return prompt.includes('Why is that so?') ? 'INDEPENDENT' : 'DEPENDENT';
  if (call.body.stream) return `Streamed answer ${call.seq}: the second name, shorter.`;
  return `Rejected answer ${call.seq}: a generic reply that ignores what was said before.`;
}

/** Two records with context-dependent turns (record 1: turns 4 and 6; record 2: turn 4). */
const DEPENDENT = [
  [
    'Write a JavaScript function that sums a list of numbers.',
    'function sum(xs) { return xs.reduce((a, b) => a + b, 0); }',
    'Rewrite it in Python.',
    'def total(xs): return sum(xs)',
    'Why is that?',
    'Because Python has a built-in sum.',
  ],
  [
    'Which sorting algorithm does Python use?',
    'Timsort, a hybrid of merge sort and insertion sort.',
    'Why is that so?',
    'It is fast on data that is already partly sorted.',
  ],
];

function readJsonl(p: string): Record<string, unknown>[] {
  return fs
    .readFileSync(p, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function key(p: Record<string, unknown>): string {
  const src = p.source as { record: number; turn: number };
  return `${src.record}:${src.turn}:${String(p.strategy)}`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

async function closeAll(): Promise<void> {
  for (let i = 0; i < 30 && vscode.window.tabGroups.all.some((g) => g.tabs.length > 0); i++)
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
}

/** A new CaPO set (neglect) of `uri` into `out` whose first request is refused (400 is not retried). */
function runWithFirstRequestRefused(uri: vscode.Uri, out: string): Promise<Result> {
  server.inject({ type: 'status', status: 400, message: 'context length exceeded' }, 1);
  return run('parrot.buildCapoSet', {
    uri,
    output: out,
    strategies: ['neglect'],
    confirm: false,
    resume: false,
  });
}

describe('CaPO flows: estimate, nothing to pair, continue after failures, progress, preview, unsaved Keep', function () {
  this.timeout(90_000);

  before(async () => {
    ({ api, server, dir } = await startLoopback(responder, 'capo-flow-tests', {
      'parrot.generation.concurrency': 2,
    }));
  });

  after(async () => {
    await closeAll();
    await stopLoopback(server, SETTINGS);
  });

  beforeEach(() => {
    server.reset();
    server.clearFaults();
    server.options.latencyMs = 0;
  });

  afterEach(closeAll);

  it('CaPO set with nothing to pair: a reason, status "empty", no request and no output file', async () => {
    const uri = writeLines(dir, 'independent.jsonl', [
      sharegpt(['What is a mutex?', 'A lock one thread holds at a time.'], 'a'),
      sharegpt(['Explain B-trees.', 'Balanced search trees with wide nodes.'], 'b'),
    ]);
    const out = path.join(dir, `nothing-${Date.now()}.jsonl`);
    const r = await run('parrot.buildCapoSet', { uri, output: out, strategies: ['neglect'], confirm: false });
    assert.equal(r.status, 'empty', r.message);
    assert.match(r.message ?? '', /Nothing to pair in .*independent\.jsonl/);
    assert.match(
      r.message ?? '',
      /none of its 2 dialogue\(s\) has a user turn that depends on the earlier turns/,
    );
    assert.equal(server.chatRequests.length, 0, 'no request sent');
    assert.equal(fs.existsSync(out), false, 'no empty output file is left behind');
    assert.equal(fs.existsSync(`${out}.progress.json`), false);
  });

  it('CaPO set estimate: the request count equals the requests a completed run sends', async () => {
    const uri = writeLines(
      dir,
      'estimate.jsonl',
      DEPENDENT.map((t, i) => sharegpt(t, `e${i}`)),
    );
    const out = path.join(dir, `estimate-${Date.now()}.jsonl`);
    const r = await run('parrot.buildCapoSet', {
      uri,
      output: out,
      strategies: ['neglect', 'hallucinate'],
      confirm: false,
      resume: false,
    });
    assert.equal(r.status, 'ok', r.message);
    const est = r.estimate as {
      requests: number;
      turns: number;
      dialogues: number;
      dependentDialogues: number;
      promptTokens: number;
      completionTokens: number;
    };
    assert.equal(est.turns, 3);
    assert.equal(est.dialogues, 2);
    assert.equal(est.dependentDialogues, 2);
    assert.equal(est.requests, 6);
    assert.equal(est.requests, server.chatRequests.length);
    assert.ok(est.promptTokens > 0 && est.completionTokens > 0, JSON.stringify(est));
    assert.equal(readJsonl(out).length, 6);
  });

  it('CaPO set with the context judge: its requests are in the estimate; turns it does not confirm get no pairs', async () => {
    await set('parrot.capo.judgeModel', ANSWERER);
    try {
      const uri = writeLines(
        dir,
        'judged.jsonl',
        DEPENDENT.map((t, i) => sharegpt(t, `j${i}`)),
      );
      const out = path.join(dir, `judged-${Date.now()}.jsonl`);
      const r = await run('parrot.buildCapoSet', {
        uri,
        output: out,
        strategies: ['neglect'],
        confirm: false,
        resume: false,
      });
      assert.equal(r.status, 'ok', r.message);
      const est = r.estimate as { requests: number; judgeRequests: number; turns: number };
      assert.equal(est.turns, 3);
      assert.equal(est.judgeRequests, 3, 'one judge request per detector hit');
      assert.equal(est.requests, 6, '3 judge + 3 answer requests at most');
      const judged = server.chatRequests.filter((q) =>
        JSON.stringify(q.body.messages).includes('INDEPENDENT'),
      );
      assert.equal(judged.length, 3);
      assert.equal(server.chatRequests.length, 5, 'no answer request for the turn the judge kept out');
      const pairs = readJsonl(out).map(key);
      assert.deepEqual(pairs, ['1:4:neglect', '1:6:neglect']);
    } finally {
      await set('parrot.capo.judgeModel', undefined);
    }
  });

  it('CaPO set with regenerated chosen answers: one more request per turn, in the estimate; chosen from the model', async () => {
    await set('parrot.capo.regenerateChosen', true);
    try {
      const uri = writeLines(
        dir,
        'regen.jsonl',
        DEPENDENT.map((t, i) => sharegpt(t, `r${i}`)),
      );
      const out = path.join(dir, `regen-${Date.now()}.jsonl`);
      const r = await run('parrot.buildCapoSet', {
        uri,
        output: out,
        strategies: ['neglect'],
        confirm: false,
        resume: false,
      });
      assert.equal(r.status, 'ok', r.message);
      const est = r.estimate as { requests: number; turns: number };
      assert.equal(est.turns, 3);
      assert.equal(est.requests, 6, 'a chosen and a neglect request per turn');
      assert.equal(server.chatRequests.length, 6);
      const pairs = readJsonl(out) as {
        chosen: { content: string }[];
        models: { chosen: string };
        source: { record: number; turn: number };
      }[];
      assert.equal(pairs.length, 3);
      const originals = new Set(DEPENDENT.flat());
      for (const p of pairs) {
        assert.equal(p.models.chosen, ANSWERER);
        assert.ok(!originals.has(p.chosen[0]?.content ?? ''), 'the chosen answer is not the record’s');
      }
      // Each chosen request saw the whole history up to its question.
      const full = server.chatRequests.filter((q) => q.body.messages.length >= 3);
      assert.ok(full.length >= 2, 'chosen answers were asked with the full context');
    } finally {
      await set('parrot.capo.regenerateChosen', undefined);
    }
  });

  it('CaPO set after failed requests: the progress stays, a re-run to the remembered file sends only those again', async () => {
    const uri = writeLines(
      dir,
      'failures.jsonl',
      DEPENDENT.map((t, i) => sharegpt(t, `f${i}`)),
    );
    const out = path.join(dir, `failures-${Date.now()}.jsonl`);
    await set('parrot.generation.concurrency', 1);
    const first = await runWithFirstRequestRefused(uri, out);
    assert.equal(first.status, 'ok', first.message);
    assert.equal(first.finished, 2);
    assert.equal(first.pairs, 2);
    assert.equal((first.skipped as string[]).length, 1);
    assert.match(first.message ?? '', /1 request\(s\) failed; run the command again/);
    assert.equal(server.chatRequests.length, 3);
    const failedBody = server.chatRequests[0]?.body;
    const state = JSON.parse(fs.readFileSync(`${out}.progress.json`, 'utf8')) as {
      records: number;
      failed: {
        slot: number;
        detail: { sha256: string; requests: { record: number; turn: number; strategy: string }[] };
      }[];
    };
    assert.equal(state.records, 2, 'both records are done');
    assert.deepEqual(
      state.failed.map((f) => f.slot),
      [0],
      'the record left short is listed once',
    );
    assert.deepEqual(
      state.failed.flatMap((f) => f.detail.requests.map((r) => [r.record, r.turn, r.strategy])),
      [[0, 3, 'neglect']],
      'the failed request is kept for a later run',
    );

    // Run again without naming the output: the unfinished run's file is continued, not overwritten.
    server.reset();
    const second = await run('parrot.buildCapoSet', {
      uri,
      strategies: ['neglect'],
      confirm: false,
      resume: true,
    });
    assert.equal(second.status, 'ok', second.message);
    assert.equal(second.output, out);
    assert.equal(second.retried, 1);
    assert.equal(second.pairs, 1);
    assert.equal(server.chatRequests.length, 1, 'only the failed request is sent again');
    assert.deepEqual(server.chatRequests[0]?.body.messages, failedBody.messages);
    const pairs = readJsonl(out);
    assert.deepEqual(pairs.map(key).sort(), ['1:4:neglect', '1:6:neglect', '2:4:neglect']);
    assert.deepEqual(
      pairs.map((p) => (p.source as { record: number }).record),
      [1, 1, 2],
      'the retried pair is written with its record, in input order',
    );
    assert.equal(fs.existsSync(`${out}.progress.json`), false, 'complete: the progress file is gone');
    await set('parrot.generation.concurrency', 2);
  });

  it('CaPO set: a failed request whose record changed since is not sent again; the pairs written stay', async () => {
    const lines = DEPENDENT.map((t, i) => sharegpt(t, `c${i}`));
    const uri = writeLines(dir, 'changed.jsonl', lines);
    const out = path.join(dir, `changed-${Date.now()}.jsonl`);
    await set('parrot.generation.concurrency', 1);
    try {
      const first = await runWithFirstRequestRefused(uri, out);
      assert.equal(first.status, 'ok', first.message);
      assert.equal(first.pairs, 2);
      const written = fs.readFileSync(out, 'utf8');
      // The record whose request failed is edited (and saved) before the run is continued.
      const doc = await vscode.workspace.openTextDocument(uri);
      const edit = new vscode.WorkspaceEdit();
      edit.replace(uri, doc.lineAt(0).range, sharegpt(DEPENDENT[0] ?? [], 'c0-edited'));
      assert.ok(await vscode.workspace.applyEdit(edit));
      assert.ok(await doc.save());
      assert.equal(
        fs.readFileSync(uri.fsPath, 'utf8').split('\n')[0],
        sharegpt(DEPENDENT[0] ?? [], 'c0-edited'),
      );
      server.reset();
      const second = await run('parrot.buildCapoSet', {
        uri,
        output: out,
        strategies: ['neglect'],
        confirm: false,
        resume: true,
      });
      assert.equal(second.status, 'ok', second.message);
      assert.equal(server.chatRequests.length, 0, 'the changed record gets no request');
      assert.equal(second.retried, 0);
      assert.match((second.skipped as string[]).join('\n'), /changed since the failed request/);
      assert.equal(fs.readFileSync(out, 'utf8'), written, 'the pairs already written stay, byte for byte');
      assert.equal(fs.existsSync(`${out}.progress.json`), false, 'nothing is left to retry');
    } finally {
      await set('parrot.generation.concurrency', 2);
    }
  });

  it('CaPO set progress: requests in flight, tokens and elapsed time are reported while records run', async () => {
    const uri = writeLines(
      dir,
      'progress.jsonl',
      DEPENDENT.map((t, i) => sharegpt(t, `p${i}`)),
    );
    const out = path.join(dir, `progress-${Date.now()}.jsonl`);
    server.options.latencyMs = 1500;
    const seen: {
      finished: number;
      inFlight: number;
      tokens: number;
      elapsedMs: number;
      requests: number;
    }[] = [];
    const r = await run('parrot.buildCapoSet', {
      uri,
      output: out,
      strategies: ['neglect', 'hallucinate'],
      confirm: false,
      resume: false,
      onProgress: (p: (typeof seen)[number]) => seen.push({ ...p }),
    });
    assert.equal(r.status, 'ok', r.message);
    const before = seen.filter((p) => p.finished === 0);
    assert.ok(
      before.some((p) => p.inFlight === 2 && p.elapsedMs >= 900),
      `before the first record ends, 2 requests are in flight and time runs: ${JSON.stringify(before)}`,
    );
    assert.ok(seen.every((p) => p.requests === 6));
    const last = seen.at(-1);
    assert.equal(last?.finished, 2);
    assert.equal(last?.inFlight, 0);
    assert.ok((last?.tokens ?? 0) > 0, 'the tokens the server reported are counted');
    for (let i = 1; i < seen.length; i++)
      assert.ok((seen[i]?.elapsedMs ?? 0) >= (seen[i - 1]?.elapsedMs ?? 0), 'elapsed time grows');
  });

  it('preview: each CaPO strategy equals the body sent; the judge is previewed; a read-only document', async () => {
    const uri = writeLines(dir, 'preview.jsonl', [sharegpt(BAKERY_TURNS, 'pv')]);
    for (const strategy of ['neglect', 'hallucinate', 'misread']) {
      const p = await run('parrot.previewRequest', {
        uri,
        record: 0,
        task: 'capo',
        strategy,
        turn: 5,
        open: false,
      });
      assert.equal(p.status, 'ok', p.message);
      server.reset();
      const n = await run('parrot.capoNegative', {
        uri,
        record: 0,
        turn: 5,
        strategy,
        decision: 'discard',
        show: false,
      });
      assert.equal(n.status, 'discarded', n.message);
      assert.deepEqual(server.chatRequests[0]?.body.messages, (p.body as ChatBody).messages, strategy);
      assert.equal(server.chatRequests[0]?.body.model, ANSWERER);
    }

    server.reset();
    const judge = await run('parrot.previewRequest', { uri, record: 0, task: 'judge', turn: 5 });
    assert.equal(judge.status, 'ok', judge.message);
    assert.deepEqual(
      judge.body,
      buildJudgeRequest(
        BAKERY_TURNS[4] ?? '',
        BAKERY_TURNS.slice(0, 4).map((t, i) => ({
          role: i % 2 === 0 ? 'user' : 'assistant',
          content: t,
        })),
        ANSWERER,
        loadTemplate('capo-judge'),
      ),
    );
    const text = JSON.stringify(judge.body);
    assert.ok(text.includes('Make the second name shorter.'), 'the judged turn is in the request');
    assert.equal(server.chatRequests.length, 0, 'a preview sends nothing');

    // Shown in a read-only document that never asks to be saved.
    const shown = vscode.window.activeTextEditor?.document;
    assert.ok(shown, 'the preview is shown');
    assert.equal(shown.uri.toString(), judge.document);
    assert.equal(shown.uri.scheme, 'parrot-request');
    assert.equal(shown.isUntitled, false);
    assert.equal(shown.isDirty, false);
    assert.equal(shown.languageId, 'json');
    assert.deepEqual(JSON.parse(shown.getText()), judge.body);
    const tabs = (): number => vscode.window.tabGroups.all.flatMap((g) => g.tabs).length;
    const open = tabs();
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    assert.equal(tabs(), open - 1, 'closed without a save prompt');
  });

  it('Keep from unsaved generated turns: the pair is marked unsaved with the record hash; saved records are not', async () => {
    const out = path.join(dir, `unsaved-${Date.now()}.jsonl`);
    await set('parrot.capo.outputFile', out);
    const question = BAKERY_TURNS.slice(0, 5);
    const uri = writeLines(dir, 'unsaved.jsonl', [
      sharegpt(BAKERY_TURNS, 'saved'),
      sharegpt(question, 'open'),
    ]);
    const first = waitForPost(
      api,
      uri,
      (m): m is Extract<HostMessage, { type: 'record' }> => m.type === 'record' && m.record.line === 0,
      'record 1',
      30_000,
    );
    await vscode.commands.executeCommand('vscode.openWith', uri, api.editor.viewType, { preview: false });
    await first;
    const doc = api.editor.document(uri);
    assert.ok(doc, 'open in the dialogue editor');

    // A pair from a record as it is on disk carries no mark.
    const clean = (await run('parrot.capoNegative', {
      uri,
      record: 0,
      turn: 5,
      strategy: 'neglect',
      decision: 'keep',
      show: false,
    })) as Result & { unsaved?: boolean };
    assert.equal(clean.status, 'ok', clean.message);
    assert.equal(clean.unsaved, false);

    // The answer is generated into the editor (unsaved), then a pair is kept from it.
    const answered = await run('parrot.answerTurn', { uri, record: 1, turn: 4 });
    assert.equal(answered.status, 'ok', answered.message);
    assert.equal(api.editor.documentState(uri)?.dirty, true);
    const line = await doc.store.readLine(1);
    const kept = (await run('parrot.capoNegative', {
      uri,
      record: 1,
      turn: 5,
      strategy: 'neglect',
      decision: 'keep',
      show: false,
    })) as Result & { unsaved?: boolean };
    assert.equal(kept.status, 'ok', kept.message);
    assert.equal(kept.unsaved, true);
    assert.match(kept.message ?? '', /Record 2 has unsaved changes: the pair is marked "unsaved"/);

    // Saved: the same record now gives an unmarked pair.
    await vscode.commands.executeCommand('workbench.action.files.save');
    assert.equal(api.editor.documentState(uri)?.dirty, false);
    const afterSave = (await run('parrot.capoNegative', {
      uri,
      record: 1,
      turn: 5,
      strategy: 'neglect',
      decision: 'keep',
      show: false,
    })) as Result & { unsaved?: boolean };
    assert.equal(afterSave.unsaved, false);

    const pairs = readJsonl(out);
    assert.equal(pairs.length, 3);
    const sources = pairs.map((p) => p.source as Record<string, unknown>);
    assert.equal(sources[0]?.unsaved, undefined);
    assert.equal(sources[1]?.unsaved, true);
    assert.equal(sources[1]?.record_sha256, sha256(line), 'the hash of the record the pair was built from');
    assert.equal(sources[2]?.unsaved, undefined);
    assert.equal(fs.readFileSync(uri.fsPath, 'utf8').split('\n')[1], line, 'saved as it was paired');
  });

  describe('from the dialogue editor webview', () => {
    type ActionState = Extract<HostMessage, { type: 'actionState' }>;
    type Review = Extract<HostMessage, { type: 'review' }>;
    let nextId = 1000;

    async function openEditor(uri: vscode.Uri): Promise<void> {
      const first = waitForPost(
        api,
        uri,
        (m): m is Extract<HostMessage, { type: 'record' }> => m.type === 'record' && m.record.line === 0,
        'record 1',
        30_000,
      );
      await vscode.commands.executeCommand('vscode.openWith', uri, api.editor.viewType, { preview: false });
      await first;
    }

    function ended(uri: vscode.Uri, id: number): Promise<ActionState> {
      return waitForPost(
        api,
        uri,
        (m): m is ActionState =>
          m.type === 'actionState' && m.id === id && !['running', 'review'].includes(m.state),
        `the end of action ${id}`,
        30_000,
      );
    }

    async function send(uri: vscode.Uri, message: object): Promise<void> {
      assert.equal(await api.editor.sendFromWebview(uri, message), true, JSON.stringify(message));
    }

    it('a running action has its own Cancel: cancelAction stops it and nothing is written', async () => {
      const out = path.join(dir, `cancel-${Date.now()}.jsonl`);
      await set('parrot.capo.outputFile', out);
      const uri = writeLines(dir, 'cancel.jsonl', [sharegpt(BAKERY_TURNS, 'c')]);
      await openEditor(uri);
      server.options.latencyMs = 20_000;
      const id = nextId++;
      const running = waitForPost(
        api,
        uri,
        (m): m is ActionState => m.type === 'actionState' && m.id === id && m.state === 'running',
        'running',
      );
      const end = ended(uri, id);
      await send(uri, {
        type: 'runAction',
        id,
        action: 'capoNegative',
        line: 0,
        turn: 5,
        strategy: 'neglect',
      });
      await running;
      const started = Date.now();
      await send(uri, { type: 'cancelAction', id });
      const last = await end;
      assert.equal(last.state, 'cancelled', last.message);
      assert.ok(Date.now() - started < 10_000, 'stopped at once, not after the answer came');
      assert.equal(fs.existsSync(out), false);
      // Cancelling what no longer runs is refused with a message, not an exception.
      const error = waitForPost(
        api,
        uri,
        (m): m is Extract<HostMessage, { type: 'error' }> => m.type === 'error',
        'error',
      );
      await send(uri, { type: 'cancelAction', id });
      assert.match((await error).message, /no longer running/);
    });

    it('a pair waiting for review is discarded by Cancel', async () => {
      const out = path.join(dir, `cancel-review-${Date.now()}.jsonl`);
      await set('parrot.capo.outputFile', out);
      const uri = writeLines(dir, 'cancel-review.jsonl', [sharegpt(BAKERY_TURNS, 'cr')]);
      await openEditor(uri);
      const id = nextId++;
      const review = waitForPost(api, uri, (m): m is Review => m.type === 'review' && m.id === id, 'review');
      const end = ended(uri, id);
      await send(uri, {
        type: 'runAction',
        id,
        action: 'capoNegative',
        line: 0,
        turn: 3,
        strategy: 'neglect',
      });
      await review;
      await send(uri, { type: 'cancelAction', id });
      assert.equal((await end).state, 'discarded');
      assert.equal(fs.existsSync(out), false);
    });

    it('no Negative on an answer that is only a tool call, nor on empty turns; the command refuses them too', async () => {
      const uri = writeLines(dir, 'tools.jsonl', [
        JSON.stringify({
          messages: [
            { role: 'user', content: 'What is the weather in Paris?' },
            {
              role: 'assistant',
              content: null,
              tool_calls: [
                { id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
              ],
            },
            { role: 'tool', tool_call_id: 'c1', content: '18 C' },
            { role: 'assistant', content: 'It is 18 C.' },
            { role: 'user', content: 'And tomorrow there?' },
            {
              role: 'assistant',
              content: null,
              tool_calls: [
                { id: 'c2', type: 'function', function: { name: 'weather', arguments: '{"day":1}' } },
              ],
            },
          ],
        }),
        JSON.stringify({
          conversations: [
            { from: 'human', value: '' },
            { from: 'gpt', value: '' },
          ],
        }),
      ]);
      await openEditor(uri);
      const cases: [object, RegExp][] = [
        [
          { line: 0, turn: 5 },
          /Turn 6 of record 1 has no text to pair \(an empty turn or a tool call only\)/,
        ],
        [{ line: 1, turn: 1 }, /Turn 2 of record 2 has no text to pair/],
      ];
      for (const [at, expected] of cases) {
        const id = nextId++;
        const end = ended(uri, id);
        await send(uri, { type: 'runAction', id, action: 'capoNegative', strategy: 'neglect', ...at });
        const last = await end;
        assert.equal(last.state, 'failed');
        assert.match(last.message ?? '', expected);
      }
      const r = await run('parrot.capoNegative', {
        uri,
        record: 0,
        turn: 5,
        strategy: 'neglect',
        decision: 'keep',
        show: false,
      });
      assert.equal(r.status, 'error');
      assert.match(r.message ?? '', /has no text to pair/);
      // A new, empty dialogue has nothing to grow from: Extend and a follow-up at the end are refused.
      for (const action of ['extendDialogue', 'askFollowUp'] as const) {
        const id = nextId++;
        const end = ended(uri, id);
        await send(uri, { type: 'runAction', id, action, line: 1 });
        const last = await end;
        assert.equal(last.state, 'failed', action);
        assert.match(last.message ?? '', /Record 2 has no question yet/, action);
      }
      const extended = await run('parrot.extendDialogue', { uri, record: 1, turns: 2 });
      assert.equal(extended.status, 'error');
      assert.match(extended.message ?? '', /Record 2 has no question yet/);
      assert.equal(server.chatRequests.length, 0, 'no request for a turn without text');
    });

    it('Keep of a pair from unsaved turns: the webview hears why the pair is marked', async () => {
      const out = path.join(dir, `unsaved-webview-${Date.now()}.jsonl`);
      await set('parrot.capo.outputFile', out);
      const uri = writeLines(dir, 'unsaved-webview.jsonl', [sharegpt(BAKERY_TURNS.slice(0, 5), 'u')]);
      await openEditor(uri);
      assert.equal((await run('parrot.answerTurn', { uri, record: 0, turn: 4 })).status, 'ok');
      const id = nextId++;
      const review = waitForPost(api, uri, (m): m is Review => m.type === 'review' && m.id === id, 'review');
      const end = ended(uri, id);
      await send(uri, {
        type: 'runAction',
        id,
        action: 'capoNegative',
        line: 0,
        turn: 5,
        strategy: 'neglect',
      });
      await review;
      await send(uri, { type: 'reviewDecision', id, decision: 'keep' });
      const last = await end;
      assert.equal(last.state, 'done');
      assert.match(last.message ?? '', /The neglect pair was kept\. Record 1 has unsaved changes/);
      const pair = readJsonl(out)[0] as { source: { unsaved?: boolean } };
      assert.equal(pair.source.unsaved, true);
    });
  });
});
