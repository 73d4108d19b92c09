// The dialogue editor's inline generation actions inside the real VS Code extension host, driven
// through the webview message path against the loopback OpenAI-compatible server: CaPO negatives
// reviewed side by side in the webview (Keep writes the pair with provenance, Discard writes
// nothing), "Ask follow-up after this" in the middle of a dialogue (one undo step), answering an
// unanswered middle turn, refused indices, and the readiness message.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { contentText } from '../../src/core/model';
import type { ParrotApi } from '../../src/extension/extension';
import { parseWebviewMessage, type ActionPhase, type HostMessage } from '../../src/protocol';
import { BAKERY_TURNS as CAPO_TURNS } from '../support/dialogues';
import type { ChatCall, TestOpenAIServer } from '../support/openai-server';
import {
  ANSWERER,
  ASKER,
  dialogue,
  setSetting as set,
  sharegpt,
  startLoopback,
  stopLoopback,
  writeLines,
} from './support/llm';
import { waitForPost as waitForPostOf } from './support/webview';

const TIMEOUT = 30_000;
const SETTINGS = [
  'parrot.endpoint.baseUrl',
  'parrot.models.asker',
  'parrot.models.answerer',
  'parrot.generation.askerMode',
  'parrot.generation.candidates',
  'parrot.capo.outputFile',
];

type ActionState = Extract<HostMessage, { type: 'actionState' }>;
type Review = Extract<HostMessage, { type: 'review' }>;

let api: ParrotApi;
let server: TestOpenAIServer;
let dir: string;
let nextId = 1;

function responder(call: ChatCall): string {
  if (call.body.model === ASKER)
    return `Which part of step ${call.seq}-${call.choice} would change if the input were sorted?`;
  if (call.body.stream) return `Streamed answer ${call.seq}: sort first, then merge the halves.`;
  return `Rejected answer ${call.seq}: a generic reply that ignores what was said before.`;
}

function file(name: string, lines: string[]): vscode.Uri {
  return writeLines(dir, name, lines);
}

/** Resolves with the first message posted to a webview of `uri` that satisfies `pred`. */
function waitForPost<T extends HostMessage>(
  uri: vscode.Uri,
  pred: (m: HostMessage) => m is T,
  what: string,
): Promise<T> {
  return waitForPostOf(api, uri, pred, what, TIMEOUT);
}

const TERMINAL: readonly ActionPhase[] = ['done', 'discarded', 'cancelled', 'failed'];

/** Every `actionState` of action `id`, until it ends; `review` messages are collected too. */
function track(uri: vscode.Uri, id: number) {
  const states: ActionPhase[] = [];
  const reviews: Review[] = [];
  /** The text of an answer as it streamed in (`partial` of the running states). */
  const partials: string[] = [];
  let sub: vscode.Disposable | undefined;
  const ended = new Promise<ActionState>((resolve, reject) => {
    const timer = setTimeout(() => {
      sub?.dispose();
      reject(new Error(`action ${id} did not end within ${TIMEOUT} ms (states: ${states.join(', ')})`));
    }, TIMEOUT);
    sub = api.editor.onDidPostMessage((e) => {
      if (e.uri.toString() !== uri.toString()) return;
      const m = e.message;
      if (m.type === 'review' && m.id === id) reviews.push(m);
      if (m.type !== 'actionState' || m.id !== id) return;
      states.push(m.state);
      if (m.partial !== undefined) partials.push(m.partial);
      if (TERMINAL.includes(m.state)) {
        clearTimeout(timer);
        sub?.dispose();
        resolve(m);
      }
    });
  });
  const review = (): Promise<Review> =>
    reviews[0]
      ? Promise.resolve(reviews[0])
      : waitForPost(uri, (m): m is Review => m.type === 'review' && m.id === id, `review of action ${id}`);
  return { states, reviews, partials, ended, review };
}

async function send(uri: vscode.Uri, message: unknown): Promise<void> {
  assert.equal(
    await api.editor.sendFromWebview(uri, message),
    true,
    `message refused: ${JSON.stringify(message)}`,
  );
}

async function openEditor(uri: vscode.Uri): Promise<void> {
  const first = waitForPost(
    uri,
    (m): m is Extract<HostMessage, { type: 'record' }> => m.type === 'record' && m.record.line === 0,
    `record 1 of ${path.basename(uri.fsPath)}`,
  );
  await vscode.commands.executeCommand('vscode.openWith', uri, api.editor.viewType, { preview: false });
  await first;
}

async function closeAll(): Promise<void> {
  for (let i = 0; i < 30 && vscode.window.tabGroups.all.some((g) => g.tabs.length > 0); i++)
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
}

describe('dialogue editor: inline generation actions (loopback server)', function () {
  this.timeout(120_000);

  before(async () => {
    ({ api, server, dir } = await startLoopback(responder, 'editor-action-tests', {
      'parrot.generation.askerMode': 'parrot-ask',
      'parrot.generation.candidates': 2,
    }));
  });

  after(async () => {
    await closeAll();
    await stopLoopback(server, SETTINGS);
  });

  beforeEach(() => server.reset());
  afterEach(closeAll);

  it('capo negative from the webview: the pair is reviewed in the webview, Keep appends it with provenance', async () => {
    const out = path.join(dir, `kept-${Date.now()}.jsonl`);
    await set('parrot.capo.outputFile', out);
    const uri = file('capo-keep.jsonl', [sharegpt(['Hi', 'Hello!'], 'x'), sharegpt(CAPO_TURNS, 'k')]);
    await openEditor(uri);
    const id = nextId++;
    const run = track(uri, id);
    await send(uri, { type: 'runAction', id, action: 'capoNegative', line: 1, turn: 5, strategy: 'neglect' });
    const review = await run.review();
    assert.equal(review.line, 1);
    assert.equal(review.turn, 5);
    assert.equal(review.strategy, 'neglect');
    assert.equal(review.chosen, CAPO_TURNS[5]);
    assert.match(review.rejected, /^Rejected answer \d+: a generic reply/);
    assert.deepEqual(run.states, ['running', 'review']);
    // The request broke the context: only the user turn, no history.
    assert.deepEqual(server.chatRequests.at(-1)?.body.messages, [{ role: 'user', content: CAPO_TURNS[4] }]);
    // Reviewed in the webview: no diff editor, and nothing written before the decision.
    const capoTabs = vscode.window.tabGroups.all
      .flatMap((g) => g.tabs)
      .filter((t) => t.input instanceof vscode.TabInputTextDiff);
    assert.equal(capoTabs.length, 0, 'no diff editor opened');
    assert.equal(fs.existsSync(out), false, 'nothing written before Keep');

    await send(uri, { type: 'reviewDecision', id, decision: 'keep' });
    const end = await run.ended;
    assert.equal(end.state, 'done', end.message);
    const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
    assert.equal(lines.length, 1);
    const pair = JSON.parse(lines[0] ?? '') as {
      strategy: string;
      prompt: { content: string }[];
      chosen: { content: string }[];
      rejected: { content: string }[];
      source: { file: string; record: number; turn: number };
      models: { rejected: string };
    };
    assert.equal(pair.strategy, 'neglect');
    assert.equal(pair.chosen.at(-1)?.content, CAPO_TURNS[5]);
    assert.equal(pair.rejected.at(-1)?.content, review.rejected);
    assert.equal(pair.prompt.at(-1)?.content, CAPO_TURNS[4]);
    assert.equal(pair.source.record, 2);
    assert.equal(pair.source.turn, 6);
    assert.ok(!path.isAbsolute(pair.source.file), `source ${pair.source.file} is workspace-relative`);
    assert.equal(pair.models.rejected, ANSWERER);
    assert.equal(api.editor.documentState(uri)?.dirty, false, 'the dataset itself is not edited');
  });

  it('capo negative from the webview: Discard writes nothing', async () => {
    const out = path.join(dir, `discarded-${Date.now()}.jsonl`);
    fs.writeFileSync(out, '{"kept":"earlier"}\n');
    await set('parrot.capo.outputFile', out);
    const uri = file('capo-discard.jsonl', [sharegpt(CAPO_TURNS, 'd')]);
    await openEditor(uri);
    const id = nextId++;
    const run = track(uri, id);
    await send(uri, {
      type: 'runAction',
      id,
      action: 'capoNegative',
      line: 0,
      turn: 3,
      strategy: 'hallucinate',
    });
    const review = await run.review();
    assert.equal(review.chosen, CAPO_TURNS[3]);
    await send(uri, { type: 'reviewDecision', id, decision: 'discard' });
    const end = await run.ended;
    assert.equal(end.state, 'discarded');
    assert.equal(fs.readFileSync(out, 'utf8'), '{"kept":"earlier"}\n');
    assert.equal(fs.existsSync(`${out}.provenance.jsonl`), false);
    // The decision cannot be sent twice.
    await send(uri, { type: 'reviewDecision', id, decision: 'keep' });
    assert.equal(fs.readFileSync(out, 'utf8'), '{"kept":"earlier"}\n');
  });

  it('ask follow-up after a middle user turn: inserted after its answer, other bytes unchanged, one undo restores', async () => {
    const before = sharegpt(['Hi', 'Hello!'], 'first');
    const target = sharegpt(
      [
        'How do I sort a list in Python?',
        'Use sorted(xs) or xs.sort().',
        'And merge sort?',
        'Split, sort both halves, merge.',
        'Which is faster?',
        'Timsort, in practice.',
      ],
      'mid',
    );
    const after = sharegpt(['Bye', 'Goodbye!'], 'last');
    const uri = file('ask-middle.jsonl', [before, target, after]);
    const original = fs.readFileSync(uri.fsPath);
    await openEditor(uri);
    const doc = api.editor.document(uri);
    assert.ok(doc);
    const id = nextId++;
    const run = track(uri, id);
    await send(uri, { type: 'runAction', id, action: 'askFollowUp', line: 1, turn: 2 });
    // The command shows its candidates in a Quick Pick: take the first one.
    let end: ActionState | undefined;
    void run.ended.then((e) => (end = e));
    while (!end) {
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
      await Promise.race([run.ended, new Promise((resolve) => setTimeout(resolve, 200))]);
    }
    assert.equal(end.state, 'done', end.message);
    // The asker saw the history up to and including the answer after turn 3 (roles reversed).
    const req = server.chatRequests.at(-1)?.body;
    assert.equal(req?.model, ASKER);
    assert.deepEqual(
      req?.messages.slice(1).map((m) => m.content),
      [
        'How do I sort a list in Python?',
        'Use sorted(xs) or xs.sort().',
        'And merge sort?',
        'Split, sort both halves, merge.',
      ],
    );
    const d = dialogue(await doc.store.readLine(1));
    assert.equal(d.turns.length, 7);
    assert.equal(d.turns[4]?.role, 'user');
    assert.match(contentText(d.turns[4]?.content ?? ''), /^Which part of step \d+-0 would change/);
    assert.deepEqual(
      d.turns.slice(5).map((t) => contentText(t.content)),
      ['Which is faster?', 'Timsort, in practice.'],
      'later turns are kept after the new question',
    );
    assert.equal(d.id, 'mid');
    assert.equal(await doc.store.readLine(0), before);
    assert.equal(await doc.store.readLine(2), after);

    // The new question is followed by the old next question, so it has no answer yet: "Answer"
    // on it inserts the answer right after it.
    const answerId = nextId++;
    const answered = track(uri, answerId);
    await send(uri, { type: 'runAction', id: answerId, action: 'answerTurn', line: 1, turn: 4 });
    const aEnd = await answered.ended;
    assert.equal(aEnd.state, 'done', aEnd.message);
    const d2 = dialogue(await doc.store.readLine(1));
    assert.deepEqual(
      d2.turns.map((t) => t.role),
      ['user', 'assistant', 'user', 'assistant', 'user', 'assistant', 'user', 'assistant'],
    );
    const streamed = contentText(d2.turns[5]?.content ?? '');
    assert.match(streamed, /^Streamed answer \d+/);
    // The answer streamed into the editor: the webview got the text as it arrived.
    assert.ok(answered.partials.length > 0, 'no partial answer reached the webview');
    for (const p of answered.partials)
      assert.ok(streamed.startsWith(p), `"${p}" is not a start of the answer`);
    const answerReq = server.chatRequests.at(-1)?.body;
    assert.equal(answerReq?.stream, true);
    assert.equal(answerReq?.messages.at(-1)?.content, contentText(d.turns[4]?.content ?? ''));

    // Each action is one undo step.
    await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
    await vscode.commands.executeCommand('undo');
    assert.equal(dialogue(await doc.store.readLine(1)).turns.length, 7, 'one undo removes the answer');
    await vscode.commands.executeCommand('undo');
    assert.equal(await doc.store.readLine(1), target, 'a second undo removes the question');
    assert.equal(doc.isDirty, false);
    await vscode.commands.executeCommand('workbench.action.files.save');
    assert.deepEqual(fs.readFileSync(uri.fsPath), original, 'the file is byte for byte the original');
  });

  it('checks action messages at runtime: a fresh copy with the known fields only', () => {
    const good = [
      { type: 'runAction', id: 7, action: 'capoNegative', line: 3, turn: 5, strategy: 'misread' },
      { type: 'runAction', id: 8, action: 'askFollowUp', line: 0, turn: 2 },
      { type: 'runAction', id: 9, action: 'askFollowUp', line: 0 },
      { type: 'runAction', id: 10, action: 'answerTurn', line: 1, turn: 0 },
      { type: 'runAction', id: Date.now(), action: 'extendDialogue', line: 2 },
      { type: 'reviewDecision', id: 7, decision: 'keep' },
      { type: 'reviewDecision', id: 7, decision: 'discard' },
    ];
    for (const m of good)
      assert.deepEqual(parseWebviewMessage({ ...m, review: 'x', uri: 'file:///etc' }), m, JSON.stringify(m));
  });

  it('refuses indices that do not fit the record, and sends no request', async () => {
    const uri = file('refuse.jsonl', [
      sharegpt(CAPO_TURNS, 'r'),
      JSON.stringify({
        conversations: [{ from: 'human', value: 'Q' }],
        chosen: { from: 'gpt', value: 'good' },
        rejected: { from: 'gpt', value: 'bad' },
      }),
    ]);
    await openEditor(uri);
    const version = api.editor.documentState(uri)?.version;
    const cases: [object, RegExp][] = [
      [{ action: 'capoNegative', line: 0, turn: 4, strategy: 'neglect' }, /not an assistant answer/],
      [{ action: 'capoNegative', line: 0, turn: 0, strategy: 'misread' }, /not an assistant answer/],
      [{ action: 'capoNegative', line: 0, turn: 99, strategy: 'neglect' }, /no turn 100/],
      [{ action: 'askFollowUp', line: 0, turn: 1 }, /not an answered user turn/],
      [{ action: 'askFollowUp', line: 0, turn: 6 }, /no turn 7/],
      [{ action: 'answerTurn', line: 0, turn: 2 }, /not an unanswered user turn/],
      [{ action: 'answerTurn', line: 0 }, /not an unanswered user turn/],
      [{ action: 'extendDialogue', line: 0, turn: 1 }, /whole dialogue/],
      [{ action: 'askFollowUp', line: 1 }, /preference pair/],
      [{ action: 'extendDialogue', line: 5 }, /no longer exists/],
    ];
    for (const [action, expected] of cases) {
      const id = nextId++;
      const run = track(uri, id);
      await send(uri, { type: 'runAction', id, ...action });
      const end = await run.ended;
      assert.equal(end.state, 'failed', JSON.stringify(action));
      assert.match(end.message ?? '', expected, JSON.stringify(action));
      assert.deepEqual(run.states, ['failed'], 'refused before anything ran');
    }
    // Malformed messages do not pass the runtime check at all.
    for (const bad of [
      { type: 'runAction', id: 1, action: 'capoNegative', line: 0, turn: 5 },
      { type: 'runAction', id: 1, action: 'capoNegative', line: 0, turn: 5, strategy: 'ignore' },
      { type: 'runAction', id: 1, action: 'askFollowUp', line: 0, strategy: 'neglect' },
      { type: 'runAction', id: 1, action: 'rm -rf', line: 0 },
      { type: 'runAction', id: -1, action: 'extendDialogue', line: 0 },
      { type: 'reviewDecision', id: 1, decision: 'maybe' },
    ])
      assert.equal(await api.editor.sendFromWebview(uri, bad), false, JSON.stringify(bad));
    assert.equal(server.chatRequests.length, 0, 'no request was sent');
    assert.equal(api.editor.documentState(uri)?.version, version, 'the document did not change');
  });

  it('tells the webview which actions can run, and updates it when a model setting changes', async () => {
    const uri = file('ready.jsonl', [sharegpt(CAPO_TURNS, 'g')]);
    const ready = waitForPost(
      uri,
      (m): m is Extract<HostMessage, { type: 'generation' }> => m.type === 'generation',
      'the generation state after ready',
    );
    await openEditor(uri);
    const first = await ready;
    assert.deepEqual(first.missing, {
      capoNegative: [],
      askFollowUp: [],
      answerTurn: [],
      extendDialogue: [],
    });
    const changed = waitForPost(
      uri,
      (m): m is Extract<HostMessage, { type: 'generation' }> =>
        m.type === 'generation' && m.missing.capoNegative.length > 0,
      'the generation state without an answer model',
    );
    await set('parrot.models.answerer', '');
    try {
      const m = await changed;
      assert.deepEqual(m.missing.capoNegative, ['parrot.models.answerer']);
      assert.deepEqual(m.missing.askFollowUp, []);
      assert.deepEqual(m.missing.extendDialogue, ['parrot.models.answerer']);
    } finally {
      await set('parrot.models.answerer', ANSWERER);
    }
  });
});
